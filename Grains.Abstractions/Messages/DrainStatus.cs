namespace RayOrleans.Messages;

/// <summary>
/// Where a node's drain stands (Ray's DrainNode): asked for by the autoscaler every round until the node is drained
/// (nothing queued, running or held, every object moved or dropped), the drain failed, or the autoscaler's deadline
/// cancels it.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.DrainStatus")]
public sealed class DrainStatus
{
    /// <summary>Nothing runs, waits or is held here, and the store is empty: the node may be stopped.</summary>
    [Id(0)] public bool Drained { get; init; }

    /// <summary>Why the drain cannot finish (an object no live node could take); the node should be kept and un-drained.</summary>
    [Id(1)] public string? Failure { get; init; }

    /// <summary>What the drain still waits for, in words (<c>1 task running; 2 objects to move</c>); empty when drained.</summary>
    [Id(2)] public string Waiting { get; init; } = "";

    /// <summary>Primary copies moved to another node so far.</summary>
    [Id(3)] public int Moved { get; init; }

    /// <summary>Secondary copies dropped so far (another node holds the object).</summary>
    [Id(4)] public int Dropped { get; init; }
}
