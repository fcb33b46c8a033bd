namespace RayOrleans.Messages;

/// <summary>What a placement group asks for: bundles of resources to reserve, and how to lay them over nodes.</summary>
[GenerateSerializer, Immutable, Alias("ray.PlacementGroupSpec")]
public sealed record PlacementGroupSpec
{
    /// <summary>The group's id (its grain's key).</summary>
    [Id(0)] public required Guid Id { get; init; }

    /// <summary>The bundles, by index; each is reserved whole on one node.</summary>
    [Id(1)] public required ResourceSet[] Bundles { get; init; }

    /// <summary>How bundles are laid over nodes.</summary>
    [Id(2)] public required PlacementGroupStrategy Strategy { get; init; }

    /// <summary>A name to find the group by in its namespace; null for none.</summary>
    [Id(3)] public string? Name { get; init; }

    /// <summary>The namespace of <see cref="Name"/>.</summary>
    [Id(4)] public string Namespace { get; init; } = "default";
}

/// <summary>Where a placement group stands: its state, where each bundle is, and why it waits.</summary>
[GenerateSerializer, Immutable, Alias("ray.PlacementGroupInfo")]
public sealed record PlacementGroupInfo
{
    /// <summary>The group's id.</summary>
    [Id(0)] public required Guid Id { get; init; }

    /// <summary>What it asked for.</summary>
    [Id(1)] public required PlacementGroupSpec Spec { get; init; }

    /// <summary>Pending, created, rescheduling (a node holding bundles died) or removed.</summary>
    [Id(2)] public required PlacementGroupState State { get; init; }

    /// <summary>
    /// Once created: the node holding each bundle, by bundle index. While rescheduling: where each bundle was,
    /// the lost ones still naming their dead node until they are reserved again.
    /// </summary>
    [Id(3)] public string[] BundleNodes { get; init; } = [];

    /// <summary>
    /// While pending: why it is not placed yet (no room now, or no set of nodes could ever hold it). While
    /// rescheduling: which bundles were lost, and why they are not placed again yet.
    /// </summary>
    [Id(4)] public string? PendingReason { get; init; }

    /// <summary>
    /// True while no set of the cluster's nodes could ever hold the group, or while rescheduling its lost
    /// bundles (it waits for nodes to join).
    /// </summary>
    [Id(5)] public bool Infeasible { get; init; }
}
