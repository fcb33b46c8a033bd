// Overview: the cluster at a glance (nodes, CPUs in use, tasks by state, actors, jobs, object store) and
// the way to every page.
"use strict";

(async () => {
  const { el, fill, getJson, card, bar, bytes, number, ApiError } = Dash;
  await Dash.frame("./");

  const { orleansDashboard } = await Dash.hostConfig();
  const descriptions = [
    ["cluster", "Cluster", "nodes, their resources in use, queued and running tasks, actors, object store; pending and infeasible demands"],
    ["jobs", "Jobs", "submitted jobs, their status, and each job's logs as they are written"],
    ["actors", "Actors", "every actor alive or dead: class, name, node, restarts, resources, death cause"],
    ["tasks", "Tasks", "task attempts by state and name, and the attempts themselves with their errors"],
    ["memory", "Objects & memory", "each node's object store and its largest objects"],
    ["placement-groups", "Placement groups", "reserved bundles and the nodes they are on"],
  ];
  fill("pages",
    descriptions.map(([href, title, text]) => el("li", null, el("a", { href }, title), ` — ${text}`)),
    orleansDashboard
      ? el("li", null, el("a", { href: orleansDashboard }, "Orleans Dashboard"), " — the grain-level view: silos, grain types, activations, method calls")
      : el("li", { class: "muted" }, "The Orleans Dashboard is turned off on this node (--orleans-dashboard false)."));

  Dash.refresh(async () => {
    const [status, summary, actors, jobs] = await Promise.all([
      getJson("/api/status"),
      getJson("/api/tasks/summary"),
      getJson("/api/actors?state=ALIVE&limit=10000"),
      getJson("/api/jobs").catch(e => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))),
    ]);

    const cpuTotal = status.nodes.reduce((s, n) => s + (n.total.amounts.CPU || 0), 0);
    const cpuFree = status.nodes.reduce((s, n) => s + (n.available.amounts.CPU || 0), 0);
    const storeUsed = status.nodes.reduce((s, n) => s + n.objectStoreUsed, 0);
    const storeCapacity = status.nodes.reduce((s, n) => s + n.objectStoreCapacity, 0);
    const byState = {};
    for (const row of summary) byState[row.state] = (byState[row.state] || 0) + row.count;
    const running = byState.RUNNING || 0;
    const pending = (byState.PENDING_ARGS_AVAIL || 0) + (byState.PENDING_NODE_ASSIGNMENT || 0);

    fill("cards",
      el("a", { href: "cluster" }, card("nodes", number(status.nodes.length))),
      el("a", { href: "cluster" }, card("CPUs in use", bar(cpuTotal - cpuFree, cpuTotal))),
      el("a", { href: "tasks?state=RUNNING" }, card("tasks running", number(running))),
      el("a", { href: "tasks" }, card("tasks waiting", number(pending))),
      el("a", { href: "tasks?state=FINISHED" }, card("tasks finished", number(byState.FINISHED || 0))),
      el("a", { href: "tasks?state=FAILED" }, card("tasks failed", number(byState.FAILED || 0))),
      el("a", { href: "actors?state=ALIVE" }, card("actors alive", number(actors.length))),
      el("a", { href: "jobs" }, card("jobs", jobs === null ? "—" : number(jobs.length))),
      el("a", { href: "memory" }, card("object store", bar(storeUsed, storeCapacity, bytes))),
      el("a", { href: "cluster" }, card("infeasible demands", number(status.infeasible.reduce((s, d) => s + d.count, 0)))));
  });
})();
