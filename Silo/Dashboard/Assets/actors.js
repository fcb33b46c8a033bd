// Actors: every actor the nodes know, alive or dead, filtered by state (and class, name, job) through the
// state API's own filters.
"use strict";

(async () => {
  const { el, fill, getJson, table, card, badge, shortId, time, number } = Dash;
  await Dash.frame("actors");

  const columns = [
    { title: "Actor", cell: a => shortId(a.actorId) },
    { title: "State", cell: a => badge(a.state) },
    { title: "Class", cell: a => a.className },
    { title: "Name", cell: a => a.name ? [a.name, a.namespace ? el("span", { class: "muted" }, ` (${a.namespace})`) : null] : "" },
    { title: "Job", cell: a => a.jobId || "" },
    { title: "Node", cell: a => el("span", { class: "mono" }, a.nodeId || "") },
    { title: "Restarts", class: "num", cell: a => `${number(a.restarts)} / ${a.maxRestarts < 0 ? "∞" : number(a.maxRestarts)}` },
    { title: "Resources", cell: a => a.resources || "" },
    { title: "Pending calls", class: "num", cell: a => number(a.pendingCalls) },
    { title: "Started", cell: a => time(a.startTime) },
    { title: "Ended", cell: a => time(a.endTime) },
    { title: "Death cause", class: "error", cell: a => a.deathCause || "" },
  ];

  let round = null;
  const read = Dash.filters(document.getElementById("filters"), () => round && round());

  round = Dash.refresh(async () => {
    const filters = read();
    const [rows, all] = await Promise.all([
      getJson(Dash.withQuery("/api/actors", { limit: 1000, ...filters })),
      getJson("/api/actors?limit=10000"),
    ]);
    const byState = {};
    for (const a of all) byState[a.state] = (byState[a.state] || 0) + 1;
    fill("counts", ["ALIVE", "PENDING_CREATION", "RESTARTING", "DEAD"].map(s => card(s.toLowerCase().replace("_", " "), number(byState[s] || 0))));
    fill("actors", table(columns, rows, Object.keys(filters).length ? "No actor matches the filter." : "No actors."));
  });
})();
