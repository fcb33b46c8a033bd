namespace RayOrleans.Messages;

/// <summary>
/// What the autoscaler last saw and did (the autoscaler part of Ray's <c>ray status</c>): its node types with
/// how many of each run, the nodes it started and what each is doing, the demands it cannot serve, and its
/// latest decisions with their reasons. Published by the autoscaler every round.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.AutoscalerState")]
public sealed record AutoscalerState
{
    /// <summary>When the autoscaler published this (UTC); an old time means it stopped running.</summary>
    [Id(0)] public DateTime Updated { get; init; }

    /// <summary>The provider that starts and stops nodes (<c>LocalProcess</c>, <c>Kubernetes</c>).</summary>
    [Id(1)] public required string Provider { get; init; }

    /// <summary>The node types it may start, with their counts now.</summary>
    [Id(2)] public required AutoscalerNodeType[] NodeTypes { get; init; }

    /// <summary>The nodes it started (or found in its worker pools), starting, running or stopping.</summary>
    [Id(3)] public required AutoscalerNode[] Nodes { get; init; }

    /// <summary>Demands no node type can hold: reported, never a reason to start a node.</summary>
    [Id(4)] public required DemandSummary[] Infeasible { get; init; }

    /// <summary>Demands waiting for room the node types' maximums or the upscaling speed do not allow yet.</summary>
    [Id(5)] public required DemandSummary[] Unfulfilled { get; init; }

    /// <summary>The bundles the cluster was asked to be able to hold at once (<c>RequestResourcesAsync</c>).</summary>
    [Id(6)] public required ResourceSet[] ResourceRequests { get; init; }

    /// <summary>Its latest decisions, oldest first (a bounded log).</summary>
    [Id(7)] public required AutoscalerDecision[] Decisions { get; init; }
}

/// <summary>A node type of the autoscaler and how many nodes of it there are.</summary>
[GenerateSerializer, Immutable, Alias("ray.AutoscalerNodeType")]
public sealed record AutoscalerNodeType
{
    /// <summary>The type's name.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>What one node of it offers.</summary>
    [Id(1)] public required ResourceSet Resources { get; init; }

    /// <summary>Nodes of it kept however idle.</summary>
    [Id(2)] public int MinWorkers { get; init; }

    /// <summary>Nodes of it at most.</summary>
    [Id(3)] public int MaxWorkers { get; init; }

    /// <summary>Nodes of it in the cluster now.</summary>
    [Id(4)] public int Running { get; init; }

    /// <summary>Nodes of it started and not in the cluster yet.</summary>
    [Id(5)] public int Starting { get; init; }
}

/// <summary>A node the autoscaler manages.</summary>
[GenerateSerializer, Immutable, Alias("ray.AutoscalerNode")]
public sealed record AutoscalerNode
{
    /// <summary>The provider's name for it (a process's instance id, a pod's name).</summary>
    [Id(0)] public required string InstanceId { get; init; }

    /// <summary>Its node type.</summary>
    [Id(1)] public required string NodeType { get; init; }

    /// <summary>Its node id (silo address) once it has joined the cluster; null while it starts.</summary>
    [Id(2)] public string? NodeId { get; init; }

    /// <summary><c>starting</c>, <c>running</c>, <c>idle</c> (running, doing and holding nothing) or <c>stopping</c>.</summary>
    [Id(3)] public required string State { get; init; }

    /// <summary>Since when it is in <see cref="State"/> (UTC).</summary>
    [Id(4)] public DateTime Since { get; init; }
}

/// <summary>One decision of the autoscaler, with why.</summary>
[GenerateSerializer, Immutable, Alias("ray.AutoscalerDecision")]
public sealed record AutoscalerDecision
{
    /// <summary>When it was made (UTC).</summary>
    [Id(0)] public DateTime Time { get; init; }

    /// <summary>
    /// <c>launch</c>, <c>terminate</c>, <c>launch-failed</c>, <c>infeasible</c>, <c>unfulfilled</c>,
    /// <c>keep</c> (an idle node not removed, and why) or <c>error</c> (the provider failed).
    /// </summary>
    [Id(1)] public required string Action { get; init; }

    /// <summary>The node type it concerns, if one.</summary>
    [Id(2)] public string? NodeType { get; init; }

    /// <summary>How many nodes it starts or stops (0 for a report).</summary>
    [Id(3)] public int Count { get; init; }

    /// <summary>The instances it concerns, if any.</summary>
    [Id(4)] public string[] Instances { get; init; } = [];

    /// <summary>Why, in words.</summary>
    [Id(5)] public required string Reason { get; init; }
}
