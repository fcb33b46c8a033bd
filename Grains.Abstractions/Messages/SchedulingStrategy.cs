namespace RayOrleans;

/// <summary>
/// Where a task or actor may run, as Ray's <c>scheduling_strategy</c>: <see cref="Default"/> (keep work on
/// the caller's node until it is about half busy, then the least loaded node that fits), <see cref="Spread"/>
/// (round-robin over the nodes that fit), <see cref="NodeAffinity"/> (one named node), or
/// <see cref="PlacementGroup"/> (inside a bundle a placement group reserved, using its resources only). Set
/// it with <c>TaskOptions.SchedulingStrategy</c> or <c>ActorOptions.SchedulingStrategy</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.SchedulingStrategy")]
public sealed class SchedulingStrategy : IEquatable<SchedulingStrategy>
{
    private SchedulingStrategy(SchedulingKind kind, string? nodeId, bool soft, Guid placementGroupId = default, int bundleIndex = -1, Dictionary<string, string>? labels = null)
    {
        Labels = labels;
        Kind = kind;
        NodeId = nodeId;
        Soft = soft;
        PlacementGroupId = placementGroupId;
        BundleIndex = bundleIndex;
    }

    /// <summary>Ray's default (hybrid) policy: local first until busy, then the least loaded node.</summary>
    public static SchedulingStrategy Default { get; } = new(SchedulingKind.Default, null, false);

    /// <summary>Spreads tasks or actors over the nodes that can hold them, one node after another (round-robin).</summary>
    public static SchedulingStrategy Spread { get; } = new(SchedulingKind.Spread, null, false);

    /// <summary>
    /// Runs on the node <paramref name="nodeId"/> (a node id as <c>Ray.NodesAsync</c> and <c>Ray.NodeId</c>
    /// give it). With <paramref name="soft"/>, work goes elsewhere when that node is gone or can never hold
    /// it; without, it fails (<c>RayTaskException</c> of a task, <c>ActorDiedException</c> for an actor) rather
    /// than run anywhere else. Work pinned to a node is never passed on to another because it is busy.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="nodeId"/> is empty.</exception>
    public static SchedulingStrategy NodeAffinity(string nodeId, bool soft = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        return new SchedulingStrategy(SchedulingKind.NodeAffinity, nodeId, soft);
    }

    /// <summary>
    /// Runs inside placement group <paramref name="placementGroupId"/>'s bundle <paramref name="bundleIndex"/>
    /// (-1: any of its bundles), on the node holding it and out of the resources the bundle reserved, never the
    /// node's others. Work waits until the group is created, and fails when the group is removed or its demand
    /// is more than the bundle holds. <c>PlacementGroup.Bundle(i)</c> gives the same.
    /// </summary>
    /// <exception cref="ArgumentException">The id is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bundleIndex"/> is below -1.</exception>
    public static SchedulingStrategy PlacementGroup(Guid placementGroupId, int bundleIndex = -1)
    {
        if (placementGroupId == Guid.Empty)
        {
            throw new ArgumentException("A placement group id must not be empty.", nameof(placementGroupId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(bundleIndex, -1);
        return new SchedulingStrategy(SchedulingKind.PlacementGroup, null, false, placementGroupId, bundleIndex);
    }

    /// <summary>
    /// Runs on a node whose labels (<c>NodeOptions.Labels</c>, <c>--labels</c>) include every key of
    /// <paramref name="labels"/> with its value, the least loaded of them. With <paramref name="soft"/>, any
    /// node when none matches; without, the work waits (reported infeasible) until a matching node joins.
    /// </summary>
    /// <exception cref="ArgumentException">No labels, or an empty key.</exception>
    public static SchedulingStrategy NodeLabels(IReadOnlyDictionary<string, string> labels, bool soft = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0 || labels.Keys.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("NodeLabels needs at least one label, and no empty key.", nameof(labels));
        }

        return new SchedulingStrategy(SchedulingKind.NodeLabels, null, soft, labels: new Dictionary<string, string>(labels, StringComparer.Ordinal));
    }

    /// <summary>True when a node with <paramref name="nodeLabels"/> matches this strategy's labels (always, for other kinds).</summary>
    public bool Matches(IReadOnlyDictionary<string, string> nodeLabels) =>
        Labels is null || Labels.All(l => nodeLabels.TryGetValue(l.Key, out var v) && v == l.Value);

    /// <summary>Which policy this is.</summary>
    [Id(0)] public SchedulingKind Kind { get; }

    /// <summary>For <see cref="SchedulingKind.NodeAffinity"/>: the node.</summary>
    [Id(1)] public string? NodeId { get; }

    /// <summary>For <see cref="SchedulingKind.NodeAffinity"/>: whether another node may be used when that one cannot.</summary>
    [Id(2)] public bool Soft { get; }

    /// <summary>For <see cref="SchedulingKind.PlacementGroup"/>: the group.</summary>
    [Id(3)] public Guid PlacementGroupId { get; }

    /// <summary>For <see cref="SchedulingKind.PlacementGroup"/>: the bundle, or -1 for any of the group's bundles.</summary>
    [Id(4)] public int BundleIndex { get; }

    /// <summary>For <see cref="SchedulingKind.NodeLabels"/>: the labels a node must have.</summary>
    [Id(5)] public Dictionary<string, string>? Labels { get; }

    /// <summary>True when the work must stay on the node it was sent to (it is never spilled to another).</summary>
    public bool PinsNode => Kind is SchedulingKind.NodeAffinity or SchedulingKind.PlacementGroup or SchedulingKind.NodeLabels;

    /// <inheritdoc />
    public bool Equals(SchedulingStrategy? other) =>
        other is not null && Kind == other.Kind && NodeId == other.NodeId && Soft == other.Soft &&
        PlacementGroupId == other.PlacementGroupId && BundleIndex == other.BundleIndex &&
        (Labels is null ? other.Labels is null : other.Labels is not null && Labels.Count == other.Labels.Count && Matches(other.Labels));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as SchedulingStrategy);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, NodeId, Soft, PlacementGroupId, BundleIndex);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        SchedulingKind.NodeAffinity => $"NodeAffinity({NodeId}, soft: {Soft})",
        SchedulingKind.NodeLabels => $"NodeLabels({string.Join(", ", Labels!.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))}, soft: {Soft})",
        SchedulingKind.PlacementGroup => $"PlacementGroup({PlacementGroupId:N}, bundle: {(BundleIndex < 0 ? "any" : BundleIndex)})",
        _ => Kind.ToString(),
    };
}

/// <summary>The kinds of <see cref="SchedulingStrategy"/>.</summary>
public enum SchedulingKind
{
    /// <summary>See <see cref="SchedulingStrategy.Default"/>.</summary>
    Default,

    /// <summary>See <see cref="SchedulingStrategy.Spread"/>.</summary>
    Spread,

    /// <summary>See <see cref="SchedulingStrategy.NodeAffinity"/>.</summary>
    NodeAffinity,

    /// <summary>See <see cref="SchedulingStrategy.PlacementGroup"/>.</summary>
    PlacementGroup,

    /// <summary>See <see cref="SchedulingStrategy.NodeLabels"/>.</summary>
    NodeLabels,
}
