// Jobs: the submitted jobs and their status (Ray's job submission), and with ?id=SUBMISSION one job's
// details and logs. The logs follow the job: each read asks for what comes after the offset the last one
// ended at (the X-Log-Offset header), so nothing is read twice, until the job has ended (X-Job-Status).
"use strict";

(async () => {
  const { el, fill, get, getJson, table, badge, time, duration, number, ApiError } = Dash;
  await Dash.frame("jobs");

  const id = Dash.query().id;
  const unavailable = e => e instanceof ApiError && e.status === 404;

  const columns = [
    { title: "Submission", cell: j => el("a", { href: Dash.withQuery("jobs", { id: j.submissionId }), class: "mono" }, j.submissionId) },
    { title: "Status", cell: j => badge(j.status) },
    { title: "Entrypoint", cell: j => el("span", { class: "mono" }, (j.entrypoint || []).join(" ")) },
    { title: "Message", cell: j => j.message || "" },
    { title: "Started", cell: j => time(j.startTime) },
    { title: "Ended", cell: j => time(j.endTime) },
    { title: "Duration", cell: j => duration(j.startTime, j.endTime) },
    { title: "Exit code", class: "num", cell: j => j.exitCode ?? "" },
    { title: "Driver pid", class: "num", cell: j => j.driverPid ?? "" },
  ];

  if (!id) {
    Dash.refresh(async () => {
      let jobs;
      try {
        jobs = await getJson("/api/jobs");
      } catch (e) {
        if (!unavailable(e)) throw e;
        fill("jobs", el("div", { class: "message" }, "No jobs: this node does not serve job submission (GET /api/jobs answered 404)."));
        return;
      }
      jobs.sort((a, b) => String(b.startTime || "").localeCompare(String(a.startTime || "")));
      fill("jobs", table(columns, jobs, "No jobs submitted."));
    });
    return;
  }

  // One job: its fields, and its logs as they grow.
  fill("title", "Job ", el("span", { class: "mono" }, id));
  const logs = el("pre", { class: "logs", id: "logs" });
  const logState = el("p", { class: "note", id: "log-state" });
  fill("jobs", el("p", null, el("a", { href: "jobs" }, "← all jobs")), el("h2", null, "Logs"), logState, logs);

  let offset = 0;
  let ended = false;
  // One decoder for the whole log: a character split between two reads is completed by the second.
  const decoder = new TextDecoder();

  /** Reads from `offset` once; returns how many bytes came. */
  async function readChunk() {
    const response = await get(Dash.withQuery(`/api/jobs/${encodeURIComponent(id)}/logs`, { offset }));
    const chunk = await response.arrayBuffer();
    const status = response.headers.get("X-Job-Status") || "";
    const next = Number(response.headers.get("X-Log-Offset"));
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) {
      // Keep the view at the bottom only when the reader is there: scrolling up to read stops the jump.
      const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
      logs.appendChild(document.createTextNode(text));
      if (atBottom) logs.scrollTop = logs.scrollHeight;
    }
    offset = Number.isFinite(next) && next >= offset ? next : offset + chunk.byteLength;
    // The status is read before the bytes: a terminal status with nothing after it means the log is complete.
    ended = Dash.finishedJobStatuses.has(status) && chunk.byteLength === 0;
    logState.textContent = ended
      ? `The job is ${status}; its logs are complete (${number(offset)} bytes).`
      : `Following the logs (${number(offset)} bytes so far; job ${status || "status unknown"}).`;
    return chunk.byteLength;
  }

  /** Reads what the log has gained since the last round: chunk after chunk (the server caps each), a few per round. */
  async function readLogs() {
    for (let i = 0; i < 8 && !ended; i++) {
      if ((await readChunk()) === 0) break;
    }
  }

  Dash.refresh(async () => {
    let job;
    try {
      job = await getJson(`/api/jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!unavailable(e)) throw e;
      fill("job", el("div", { class: "message error" }, `No job '${id}' here (GET /api/jobs/${id} answered 404).`));
      return;
    }
    fill("job", el("dl", { class: "fields" },
      el("dt", null, "Status"), el("dd", null, badge(job.status)),
      el("dt", null, "Entrypoint"), el("dd", { class: "mono" }, (job.entrypoint || []).join(" ")),
      el("dt", null, "Message"), el("dd", null, job.message || ""),
      el("dt", null, "Started"), el("dd", null, time(job.startTime)),
      el("dt", null, "Ended"), el("dd", null, time(job.endTime)),
      el("dt", null, "Duration"), el("dd", null, duration(job.startTime, job.endTime)),
      el("dt", null, "Exit code"), el("dd", null, job.exitCode ?? ""),
      el("dt", null, "Driver pid"), el("dd", null, job.driverPid ?? "")));
    await readLogs();
  });
})();
