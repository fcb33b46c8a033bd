namespace RayOrleans;

/// <summary>How a placement group's bundles are laid over nodes, as Ray's placement group strategies.</summary>
public enum PlacementGroupStrategy
{
    /// <summary>As few nodes as possible: all on one node when one has room, else spread over the fewest.</summary>
    Pack,

    /// <summary>Each bundle on a different node where possible; bundles share a node only when nodes run out.</summary>
    Spread,

    /// <summary>All bundles on one node, or not at all (the group waits).</summary>
    StrictPack,

    /// <summary>Each bundle on a different node, or not at all (the group waits for enough nodes).</summary>
    StrictSpread,
}

/// <summary>The life of a placement group.</summary>
public enum PlacementGroupState
{
    /// <summary>Waiting until every bundle can be reserved at once.</summary>
    Pending,

    /// <summary>Every bundle is reserved on its node.</summary>
    Created,

    /// <summary>Removed: its reservations are given back, and work scheduled into it fails.</summary>
    Removed,

    /// <summary>
    /// A node holding some of its bundles died: the bundles on live nodes stay reserved, the lost ones are being
    /// reserved again on other nodes by the group's strategy (Ray's <c>RESCHEDULING</c>); then it is created
    /// again. Listed last so the earlier states keep their numbers.
    /// </summary>
    Rescheduling,
}
