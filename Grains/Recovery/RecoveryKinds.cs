using RayOrleans.Grains;

namespace RayOrleans.Recovery;

/// <summary>The kinds of grain the recovery index lists (its shards' key extensions), and how each is told of a node death.</summary>
internal static class RecoveryKinds
{
    /// <summary>Placement groups (<see cref="IPlacementGroupGrain"/>), keyed by group id.</summary>
    public const string PlacementGroups = "placement-groups";

    /// <summary>Restartable actors' supervisors (<see cref="IActorSupervisorGrain"/>), keyed by actor id.</summary>
    public const string ActorSupervisors = "actor-supervisors";

    /// <summary>Every kind: a node death is told to each kind's shards.</summary>
    public static readonly string[] All = [PlacementGroups, ActorSupervisors];

    /// <summary>Tells the grain <paramref name="id"/> of <paramref name="kind"/> that <paramref name="node"/> died.</summary>
    public static Task TellNodeDiedAsync(IGrainFactory grains, string kind, Guid id, string node) => kind switch
    {
        PlacementGroups => grains.GetGrain<IPlacementGroupGrain>(id).NodeDiedAsync(node),
        ActorSupervisors => grains.GetGrain<IActorSupervisorGrain>(id).NodeDiedAsync(node),
        _ => throw new ArgumentException($"Unknown recovery index kind '{kind}'.", nameof(kind)),
    };
}
