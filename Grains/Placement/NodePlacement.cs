using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace RayOrleans.Placement;

/// <summary>Places a grain on the silo whose address is its string key: one node grain per silo.</summary>
[GenerateSerializer, Immutable, Alias("ray.NodePlacementStrategy")]
internal sealed class NodePlacementStrategy : PlacementStrategy
{
    public static readonly NodePlacementStrategy Instance = new();
}

/// <summary>Marks a grain class as pinned to the silo its key names.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class NodePlacementAttribute : PlacementAttribute
{
    public NodePlacementAttribute() : base(NodePlacementStrategy.Instance) { }
}

internal sealed class NodePlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var silo = SiloAddress.FromParsableString(key);
        if (!context.GetCompatibleSilos(target).Contains(silo))
        {
            throw new OrleansException($"Node {key} is not an active member of the cluster.");
        }

        return Task.FromResult(silo);
    }
}
