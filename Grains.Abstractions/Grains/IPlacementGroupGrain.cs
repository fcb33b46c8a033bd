using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// One placement group (the key is its id): it reserves every bundle on its node all at once or none, retries
/// while it cannot, reserves again the bundles lost with a node, and gives the reservations back when removed.
/// Its record is kept in grain storage, so an activation after its silo died carries on.
/// </summary>
public interface IPlacementGroupGrain : IGrainWithGuidKey
{
    /// <summary>Starts placing the group (a second call with the same spec changes nothing); throws when its name is taken.</summary>
    Task<PlacementGroupInfo> CreateAsync(PlacementGroupSpec spec);

    /// <summary>
    /// The group's state once it is created (with no bundle on a node of <paramref name="avoid"/>: nodes the
    /// caller found gone, which the group will find dead and reserve elsewhere) or removed, or after
    /// <paramref name="maxWait"/>, whichever is first.
    /// </summary>
    [AlwaysInterleave]
    Task<PlacementGroupInfo> WaitAsync(TimeSpan maxWait, string[]? avoid = null);

    /// <summary>The group's state now; null when no group has this id.</summary>
    [AlwaysInterleave]
    Task<PlacementGroupInfo?> GetInfoAsync();

    /// <summary>Removes the group: gives its reservations back; work scheduled into it fails from now on.</summary>
    Task RemoveAsync();

    /// <summary>
    /// Membership declared <paramref name="node"/> dead: a group with bundles there goes to rescheduling and
    /// reserves them elsewhere. Wakes the group (from its stored record) if its own silo died.
    /// </summary>
    Task NodeDiedAsync(string node);
}

/// <summary>Named placement groups of one namespace (the key): name to group id.</summary>
public interface IPlacementGroupRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers <paramref name="name"/>; false when another group holds it.</summary>
    Task<bool> TryRegisterAsync(string name, Guid group);

    /// <summary>The group registered under <paramref name="name"/>; null when none.</summary>
    Task<Guid?> LookupAsync(string name);

    /// <summary>Drops the name if it still points at <paramref name="group"/>.</summary>
    Task UnregisterAsync(string name, Guid group);
}
