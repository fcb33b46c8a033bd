using RayOrleans.Grains;

namespace RayOrleans.Placement;

/// <summary>Named placement groups of one namespace.</summary>
[KeepAlive]
internal sealed class PlacementGroupRegistryGrain : Grain, IPlacementGroupRegistryGrain
{
    private readonly Dictionary<string, Guid> _names = new(StringComparer.Ordinal);

    public async Task<bool> TryRegisterAsync(string name, Guid group)
    {
        if (_names.TryGetValue(name, out var existing) && existing != group)
        {
            // A name held by a removed group is free again, as in Ray.
            var info = await GrainFactory.GetGrain<IPlacementGroupGrain>(existing).GetInfoAsync();
            if (info is not null && info.State != PlacementGroupState.Removed)
            {
                return false;
            }
        }

        _names[name] = group;
        return true;
    }

    public Task<Guid?> LookupAsync(string name) => Task.FromResult(_names.TryGetValue(name, out var group) ? group : (Guid?)null);

    public Task UnregisterAsync(string name, Guid group)
    {
        if (_names.TryGetValue(name, out var existing) && existing == group)
        {
            _names.Remove(name);
        }

        return Task.CompletedTask;
    }
}
