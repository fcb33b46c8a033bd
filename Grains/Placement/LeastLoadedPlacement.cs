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
    /// <summary>
    /// Request-context key under which the creator names the node it chose for the actor: the creator
    /// knows the actor's resource demand, which an activation request does not carry.
    /// </summary>
    public const string NodeHintKey = "ray.node";

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var chosen = target.RequestContextData is { } data && data.TryGetValue(NodeHintKey, out var hint) && hint is string hinted
            ? hinted
            : node.Cluster.PickNode(ResourceSet.Empty, preferred: null, forActor: true);
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
