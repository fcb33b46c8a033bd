using RayOrleans.Grains;
using RayOrleans.Hosting;
using RayOrleans.Node;

namespace RayOrleans.Placement;

/// <summary>
/// Named placement groups of one namespace; placed off draining nodes, and migrates with its names off one. The names
/// are kept in the placement groups' storage with the groups' records, so a group is still found by name after the
/// registry's silo died (with Redis storage; see <see cref="ClusterStateStorageOptions"/>).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class PlacementGroupRegistryGrain(
    ClusterStateActivations stateGrains,
    [PersistentState("names", ClusterStateStorageOptions.ProviderName)] IPersistentState<Dictionary<string, Guid>> stored)
    : Grain, IPlacementGroupRegistryGrain
{
    private Dictionary<string, Guid> Names => stored.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        return Task.CompletedTask;
    }

    public async Task<bool> TryRegisterAsync(string name, Guid group)
    {
        if (Names.TryGetValue(name, out var existing) && existing != group)
        {
            // A name held by a removed group is free again, as in Ray.
            var info = await GrainFactory.GetGrain<IPlacementGroupGrain>(existing).GetInfoAsync();
            if (info is not null && info.State != PlacementGroupState.Removed)
            {
                return false;
            }
        }

        Names[name] = group;
        await stored.WriteStateAsync();
        return true;
    }

    public Task<Guid?> LookupAsync(string name) => Task.FromResult(Names.TryGetValue(name, out var group) ? group : (Guid?)null);

    public async Task UnregisterAsync(string name, Guid group)
    {
        if (Names.TryGetValue(name, out var existing) && existing == group)
        {
            Names.Remove(name);
            await stored.WriteStateAsync();
        }
    }
}
