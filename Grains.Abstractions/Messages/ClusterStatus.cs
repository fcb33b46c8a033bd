namespace RayOrleans.Messages;

/// <summary>How many pieces of work wait with the same resource demand, and one of their names.</summary>
[GenerateSerializer, Immutable, Alias("ray.DemandSummary")]
public sealed record DemandSummary
{
    /// <summary>What each of them needs.</summary>
    [Id(0)] public required ResourceSet Demand { get; init; }

    /// <summary>How many wait with this demand.</summary>
    [Id(1)] public int Count { get; init; }

    /// <summary>The name of one of them (a task's or actor class's), when known.</summary>
    [Id(2)] public string? Example { get; init; }
}

/// <summary>
/// The cluster at a glance, as Ray's <c>ray status</c>: every node's resources in total and free, the
/// demands queued on nodes for resources, and the demands no node can ever hold (they wait for a node that can).
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ClusterStatus")]
public sealed record ClusterStatus
{
    /// <summary>Every live node's latest report, ordered by node id.</summary>
    [Id(0)] public required NodeReport[] Nodes { get; init; }

    /// <summary>Demands queued on nodes, waiting for resources there to free up (summed over nodes).</summary>
    [Id(1)] public required DemandSummary[] Pending { get; init; }

    /// <summary>Demands no node of the cluster can ever hold; each waits until a node that can joins.</summary>
    [Id(2)] public required DemandSummary[] Infeasible { get; init; }

    /// <summary>
    /// The autoscaler's node types, nodes and latest decisions, when one runs (read from <c>IAutoscalerStateGrain</c>
    /// by <c>Ray.ClusterStatusAsync</c> and <c>/api/status</c>); null otherwise.
    /// </summary>
    [Id(3)] public AutoscalerState? Autoscaler { get; init; }
}
