// Cluster: every node with its resources in use as bars, its queued and running tasks, actors and object
// store; then the demands waiting for resources and those no node can hold (Ray's `ray status`).
"use strict";

(async () => {
  const { el, fill, getJson, table, card, bar, bytes, number, amount, resources, duration } = Dash;
  await Dash.frame("cluster");

  // CPU, GPU and memory first, as `ray status` orders them; custom resources after, by name.
  const order = name => ({ CPU: "0", GPU: "1", memory: "2" })[name] || "3" + name;

  function resourceBars(node) {
    const names = Object.keys(node.total.amounts).sort((a, b) => order(a).localeCompare(order(b)));
    return el("div", { class: "resource" }, names.map(name => {
      const total = node.total.amounts[name];
      const free = node.available.amounts[name] ?? 0;
      return [el("span", { class: "resource-name" }, name), bar(Math.max(0, total - free), total, v => amount(name, v))];
    }));
  }

  function labels(node) {
    const entries = Object.entries(node.labels || {});
    return entries.length === 0 ? null : el("div", null, entries.map(([k, v]) => el("span", { class: "label" }, `${k}=${v}`)));
  }

  const demandColumns = [
    { title: "Demand", cell: d => resources(d.demand) },
    { title: "Count", class: "num", cell: d => number(d.count) },
    { title: "For example", cell: d => d.example || "" },
  ];

  Dash.refresh(async () => {
    const status = await getJson("/api/status");
    const nodes = status.nodes;

    // Cluster-wide use of each resource, summed over nodes.
    const totals = {};
    for (const node of nodes) {
      for (const [name, total] of Object.entries(node.total.amounts)) {
        const t = (totals[name] ||= { total: 0, used: 0 });
        t.total += total;
        t.used += Math.max(0, total - (node.available.amounts[name] ?? 0));
      }
    }
    fill("totals",
      card("nodes", number(nodes.length)),
      Object.keys(totals).sort((a, b) => order(a).localeCompare(order(b)))
        .map(name => card(`${name} in use`, bar(totals[name].used, totals[name].total, v => amount(name, v)))),
      card("queued tasks", number(nodes.reduce((s, n) => s + n.queued, 0))),
      card("running tasks", number(nodes.reduce((s, n) => s + n.running, 0))),
      card("actors", number(nodes.reduce((s, n) => s + n.actors, 0))));

    fill("nodes", table([
      { title: "Node", cell: n => [el("span", { class: "mono" }, n.nodeId), labels(n)] },
      { title: "Resources (used / total)", cell: resourceBars },
      { title: "Queued", class: "num", cell: n => number(n.queued) },
      { title: "Running", class: "num", cell: n => number(n.running) },
      { title: "Actors", class: "num", cell: n => number(n.actors) },
      { title: "Object store", cell: n => [bar(n.objectStoreUsed, n.objectStoreCapacity, bytes), el("div", { class: "muted" }, `${number(n.objectCount)} objects`)] },
      { title: "Reported", cell: n => `${duration(n.timestamp)} ago` },
    ], nodes, "No nodes report. Is the cluster up?"));

    fill("pending", table(demandColumns, status.pending, "Nothing waits for resources."));
    fill("infeasible", table(demandColumns, status.infeasible, "No infeasible demands."));
  });
})();
