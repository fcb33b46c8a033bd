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

    /// <summary>
    /// Request-context key naming a node the grain must not be placed on while another silo is compatible: an
    /// actor's supervisor is kept off its actor's node, also when the hinted node is gone and the choice falls
    /// back, and when the supervisor moves.
    /// </summary>
    public const string AvoidKey = "ray.avoid";

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var data = target.RequestContextData;
        var avoid = data is not null && data.TryGetValue(AvoidKey, out var avoided) && avoided is string a ? a : null;
        var chosen = data is not null && data.TryGetValue(NodeHintKey, out var hint) && hint is string hinted && hinted != avoid
            ? hinted
            : node.Cluster.PickNode(ResourceSet.Empty, preferred: null, forActor: true, avoid: avoid);
        if (chosen is not null)
        {
            var silo = SiloAddress.FromParsableString(chosen);
            if (compatible.Contains(silo) && (chosen != avoid || compatible.Length == 1))
            {
                return Task.FromResult(silo);
            }
        }

        // The view lags membership by up to a second; fall back to any compatible silo (but the avoided one).
        if (avoid is not null && compatible.Length > 1)
        {
            var others = compatible.Where(s => s.ToParsableString() != avoid).ToArray();
            if (others.Length > 0)
            {
                return Task.FromResult(others[Random.Shared.Next(others.Length)]);
            }
        }

        return Task.FromResult(compatible[Random.Shared.Next(compatible.Length)]);
    }
}
