namespace RayOrleans.Messages;

/// <summary>Where a node should pull an object from, as the node holding its primary copy answers.</summary>
[GenerateSerializer, Immutable, Alias("ray.PullSource")]
public sealed class PullSource
{
    /// <summary>The node to pull from (the primary's, or one holding a copy); null when <see cref="Busy"/>.</summary>
    [Id(0)] public string? Node { get; init; }

    /// <summary>
    /// Every source is serving as many pulls as it may: ask again shortly, when a pull in progress has made
    /// another copy to pull from (so a broadcast spreads as a tree instead of all reading from one node).
    /// </summary>
    [Id(1)] public bool Busy { get; init; }
}
