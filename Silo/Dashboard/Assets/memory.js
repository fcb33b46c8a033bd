// Objects & memory: each node's object store (in memory, pooled, spilled) and its largest objects, with
// who owns them, what made them and what keeps them alive (Ray's `ray memory`).
"use strict";

(async () => {
  const { el, fill, getJson, table, card, bar, bytes, number, objectId } = Dash;
  await Dash.frame("memory");

  Dash.refresh(async () => {
    const stores = await getJson("/api/memory?top=20");
    const sum = f => stores.reduce((s, m) => s + f(m), 0);
    fill("totals",
      card("in memory", bar(sum(m => m.used), sum(m => m.capacity), bytes)),
      card("objects", number(sum(m => m.count))),
      card("spilled to disk", bytes(sum(m => m.spilled))),
      card("pooled for reuse", bytes(sum(m => m.pooled))));

    fill("stores", table([
      { title: "Node", cell: m => el("span", { class: "mono" }, m.nodeId) },
      { title: "In memory (used / capacity)", cell: m => bar(m.used, m.capacity, bytes) },
      { title: "Objects", class: "num", cell: m => number(m.count) },
      { title: "Spilled", class: "num", cell: m => bytes(m.spilled) },
      { title: "Pooled", class: "num", cell: m => bytes(m.pooled) },
    ], stores, "No nodes report."));

    const objects = stores.flatMap(m => m.largest.map(o => ({ ...o, nodeId: m.nodeId }))).sort((a, b) => b.size - a.size);
    fill("objects", table([
      { title: "Object", cell: o => el("span", { class: "mono" }, objectId(o.id)) },
      { title: "Node", cell: o => el("span", { class: "mono" }, o.nodeId) },
      { title: "Size", class: "num", cell: o => bytes(o.size) },
      { title: "Where", cell: o => o.spilled ? "spilled" : "memory" },
      { title: "Readers", class: "num", cell: o => number(o.readers) },
      { title: "Owner", cell: o => el("span", { class: "mono" }, o.owner || "") },
      { title: "Made by", cell: o => o.creator || "" },
      { title: "Held by", cell: o => Object.entries(o.holders || {}).map(([holder, count]) => el("div", { class: "mono" }, `${holder} ×${count}`)) },
      { title: "Copy of / copies", cell: o => o.pulledFrom ? `copy from ${o.pulledFrom}` : (o.copies || []).length ? `copies on ${o.copies.join(", ")}` : "" },
    ], objects, "No objects in any store."));
  });
})();
