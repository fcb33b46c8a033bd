using Orleans.Placement;
using Orleans.Runtime.Placement;
using RayOrleans.Messages;
using RayOrleans.Node;

namespace RayOrleans.Placement;

/// <summary>
/// Places an actor on the node with the fewest actors per CPU according to the cluster view. The
/// resource-aware director (demands, GPUs, placement groups) replaces this one in the scheduler work.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.LeastLoadedPlacementStrategy")]
internal sealed class LeastLoadedPlacementStrategy : PlacementStrategy
{
    public static readonly LeastLoadedPlacementStrategy Instance = new();
}

/// <summary>Marks a grain class as placed by <see cref="LeastLoadedPlacementDirector"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class LeastLoadedPlacementAttribute : PlacementAttribute
{
    public LeastLoadedPlacementAttribute() : base(LeastLoadedPlacementStrategy.Instance) { }
}

internal sealed class LeastLoadedPlacementDirector(NodeRuntime node) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var chosen = node.Cluster.PickNode(ResourceSet.Empty, preferred: null, forActor: true);
        if (chosen is not null)
        {
            var silo = SiloAddress.FromParsableString(chosen);
            if (compatible.Contains(silo))
            {
                return Task.FromResult(silo);
            }
        }

        // The view lags membership by up to a second; fall back to any compatible silo.
        return Task.FromResult(compatible[Random.Shared.Next(compatible.Length)]);
    }
}
