using RayOrleans.Grains;
using RayOrleans.Node;

namespace RayOrleans.Placement;

/// <summary>Named placement groups of one namespace; placed off draining nodes, and migrates with its names off one.</summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class PlacementGroupRegistryGrain(ClusterStateActivations stateGrains) : Grain, IPlacementGroupRegistryGrain, IGrainMigrationParticipant
{
    private readonly Dictionary<string, Guid> _names = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext context) => context.TryAddValue("names", _names.ToArray());

    public void OnRehydrate(IRehydrationContext context)
    {
        if (context.TryGetValue("names", out KeyValuePair<string, Guid>[]? names) && names is not null)
        {
            foreach (var (name, group) in names)
            {
                _names[name] = group;
            }
        }
    }

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
