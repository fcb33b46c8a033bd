using Orleans.Placement;
using Orleans.Runtime.Placement;
using RayOrleans.Node;

namespace RayOrleans.Placement;

/// <summary>
/// Placement of the grains that keep cluster state in memory (directory shards, registries, placement groups): any
/// silo but a draining one, so that no such activation starts on a node the autoscaler is about to remove.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ClusterStatePlacementStrategy")]
internal sealed class ClusterStatePlacementStrategy : PlacementStrategy
{
    public static readonly ClusterStatePlacementStrategy Instance = new();
}

/// <summary>Marks a grain class as placed by <see cref="ClusterStatePlacementDirector"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class ClusterStatePlacementAttribute : PlacementAttribute
{
    public ClusterStatePlacementAttribute() : base(ClusterStatePlacementStrategy.Instance) { }
}

/// <summary>
/// A random compatible silo that is not draining. A migration's target (the draining node names it in
/// <see cref="IPlacementDirector.PlacementHintKey"/>) wins when it is compatible: Orleans' own directors honour the
/// hint, but a custom director must do so itself, and a migration that this director sends back to the same silo
/// does not happen at all.
/// </summary>
internal sealed class ClusterStatePlacementDirector(NodeRuntime node) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hinted)
        {
            return Task.FromResult(hinted);
        }

        // The view filters draining nodes once per refresh; this silo's own flag is read directly, since its report
        // reaches the views up to a second later. Only placement of these (rare) activations pays for the filter.
        var self = node.NodeId;
        var draining = node.Cluster.Reported.Where(n => n.Draining).Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
        if (node.Draining)
        {
            draining.Add(self);
        }

        var eligible = draining.Count == 0 ? compatible : compatible.Where(s => !draining.Contains(s.ToParsableString())).ToArray();
        var from = eligible.Length > 0 ? eligible : compatible; // every silo draining: placing somewhere beats failing the call
        return Task.FromResult(from[Random.Shared.Next(from.Length)]);
    }
}
