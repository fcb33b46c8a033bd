// Placement groups: each group's bundles, strategy, state and the nodes its bundles are reserved on, or
// why it waits.
"use strict";

(async () => {
  const { el, fill, getJson, table, badge, shortId } = Dash;
  await Dash.frame("placement-groups");

  Dash.refresh(async () => {
    const groups = await getJson("/api/placement_groups?limit=1000");
    fill("groups", table([
      { title: "Group", cell: g => shortId(g.placementGroupId) },
      { title: "Name", cell: g => g.name ? [g.name, g.namespace ? el("span", { class: "muted" }, ` (${g.namespace})`) : null] : "" },
      { title: "State", cell: g => [badge(g.state), g.infeasible ? el("span", { class: "muted" }, " infeasible") : null] },
      { title: "Strategy", cell: g => g.strategy },
      { title: "Bundles", cell: g => g.bundles },
      { title: "On nodes", cell: g => el("span", { class: "mono" }, g.bundleNodes) },
      { title: "Waiting because", class: "error", cell: g => g.pendingReason || "" },
    ], groups, "No placement groups."));
  });
})();
