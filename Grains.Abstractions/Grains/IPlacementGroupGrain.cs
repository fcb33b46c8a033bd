using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// One placement group (the key is its id): it reserves every bundle on its node all at once or none, retries
/// while it cannot, and gives the reservations back when removed.
/// </summary>
public interface IPlacementGroupGrain : IGrainWithGuidKey
{
    /// <summary>Starts placing the group (a second call with the same spec changes nothing); throws when its name is taken.</summary>
    Task<PlacementGroupInfo> CreateAsync(PlacementGroupSpec spec);

    /// <summary>The group's state once it is no longer pending, or after <paramref name="maxWait"/>, whichever is first.</summary>
    [AlwaysInterleave]
    Task<PlacementGroupInfo> WaitAsync(TimeSpan maxWait);

    /// <summary>The group's state now; null when no group has this id.</summary>
    [AlwaysInterleave]
    Task<PlacementGroupInfo?> GetInfoAsync();

    /// <summary>Removes the group: gives its reservations back; work scheduled into it fails from now on.</summary>
    Task RemoveAsync();
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
