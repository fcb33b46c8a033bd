// Tasks: how many attempts are in each state (the summary), the same by task name, and the attempts
// themselves filtered by state, name and job, with the error of each failed one.
"use strict";

(async () => {
  const { el, fill, getJson, table, card, badge, shortId, time, duration, number } = Dash;
  await Dash.frame("tasks");

  const states = ["PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "RUNNING", "FINISHED", "FAILED"];
  const form = document.getElementById("filters");
  let round = null;
  const read = Dash.filters(form, () => round && round());

  /** Lists the attempts of one task name (a click in the summary). */
  function show(name, state) {
    form.elements.name.value = name;
    form.elements.state.value = state || "";
    form.dispatchEvent(new Event("change"));
  }

  const columns = [
    { title: "Task", cell: t => shortId(t.taskId) },
    { title: "Attempt", class: "num", cell: t => number(t.attempt) },
    { title: "Name", cell: t => t.name },
    { title: "Type", cell: t => t.type },
    { title: "State", cell: t => [badge(t.state), t.retried ? el("span", { class: "muted" }, " retried") : null] },
    { title: "Job", cell: t => t.jobId || "" },
    { title: "Node", cell: t => el("span", { class: "mono" }, t.nodeId || "") },
    { title: "Created", cell: t => time(t.creationTime) },
    { title: "Duration", cell: t => duration(t.startTime, t.endTime) },
    { title: "Error", class: "error", cell: t => t.errorType || t.errorMessage ? [t.errorType ? el("strong", null, t.errorType) : null, t.errorType && t.errorMessage ? ": " : null, t.errorMessage || ""] : "" },
  ];

  round = Dash.refresh(async () => {
    const filters = read();
    const [summary, tasks] = await Promise.all([
      getJson("/api/tasks/summary"),
      getJson(Dash.withQuery("/api/tasks", filters)),
    ]);

    const totals = {};
    const byName = new Map();
    for (const row of summary) {
      totals[row.state] = (totals[row.state] || 0) + row.count;
      const key = `${row.name}\u0000${row.type}`;
      if (!byName.has(key)) byName.set(key, { name: row.name, type: row.type, counts: {} });
      byName.get(key).counts[row.state] = (byName.get(key).counts[row.state] || 0) + row.count;
    }
    fill("states", states.map(s => el("a", { href: Dash.withQuery("tasks", { state: s }), "data-state": s }, card(s, number(totals[s] || 0)))));

    const rows = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    fill("summary", table([
      { title: "Name", cell: r => el("a", { href: Dash.withQuery("tasks", { name: r.name }), onclick: e => { e.preventDefault(); show(r.name); } }, r.name) },
      { title: "Type", cell: r => r.type },
      ...states.map(s => ({
        title: s, class: "num",
        cell: r => r.counts[s] ? el("a", { href: Dash.withQuery("tasks", { name: r.name, state: s }), onclick: e => { e.preventDefault(); show(r.name, s); } }, number(r.counts[s])) : "",
      })),
    ], rows, "No tasks yet."));

    fill("tasks", table(columns, tasks, Object.keys(filters).length ? "No attempt matches the filter." : "No tasks yet."));
  });
})();
