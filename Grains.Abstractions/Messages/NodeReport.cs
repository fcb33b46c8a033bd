namespace RayOrleans.Messages;

/// <summary>What a node publishes about itself: its resources and its load.</summary>
[GenerateSerializer, Immutable, Alias("ray.NodeReport")]
public sealed class NodeReport
{
    /// <summary>The node id (the silo address).</summary>
    [Id(0)] public required string NodeId { get; init; }

    /// <summary>Resources the node offers in all.</summary>
    [Id(1)] public required ResourceSet Total { get; init; }

    /// <summary>Resources not held by running tasks or live actors.</summary>
    [Id(2)] public required ResourceSet Available { get; init; }

    /// <summary>Tasks waiting for arguments or resources.</summary>
    [Id(3)] public int Queued { get; init; }

    /// <summary>Tasks running now.</summary>
    [Id(4)] public int Running { get; init; }

    /// <summary>Live actors hosted on the node.</summary>
    [Id(5)] public int Actors { get; init; }

    /// <summary>When the report was made.</summary>
    [Id(6)] public DateTime Timestamp { get; init; }

    /// <summary>Bytes of the node's object store held by live objects.</summary>
    [Id(7)] public long ObjectStoreUsed { get; init; }

    /// <summary>Bytes of freed segments the store keeps mapped for reuse (they give way to live objects).</summary>
    [Id(8)] public long ObjectStorePooled { get; init; }

    /// <summary>Bytes the node's object store may hold.</summary>
    [Id(9)] public long ObjectStoreCapacity { get; init; }

    /// <summary>Objects in the node's store.</summary>
    [Id(10)] public int ObjectCount { get; init; }

    /// <summary>The folder of the node's shared-memory segments, for drivers on the same host.</summary>
    [Id(11)] public string? ObjectStoreFolder { get; init; }

    /// <summary>The machine the node runs on (name and boot id): a driver with the same one shares its memory.</summary>
    [Id(12)] public string? HostId { get; init; }

    /// <summary>Demands queued here for resources (the first thousand waiters, grouped by demand).</summary>
    [Id(13)] public DemandSummary[] Pending { get; init; } = [];

    /// <summary>The node's labels (<c>NodeOptions.Labels</c>), for <c>SchedulingStrategy.NodeLabels</c>.</summary>
    [Id(14)] public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>
    /// The node is draining (the autoscaler is about to remove it): placement leaves it out, and work that still
    /// arrives is passed on to another node.
    /// </summary>
    [Id(15)] public bool Draining { get; init; }
}
