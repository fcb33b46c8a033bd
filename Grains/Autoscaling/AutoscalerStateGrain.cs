using RayOrleans.Grains;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Autoscaling;

/// <summary>
/// Holds the standing resource request and the autoscaler's latest state. The request is written to the
/// cluster-state grain storage (<see cref="ClusterStateStorageOptions"/>: Redis on a Redis cluster) before the
/// driver's call returns, so it stands after the silo hosting this grain dies, as Ray's does until replaced; the
/// autoscaler's state is only in memory, since every round publishes it again. Kept alive, placed off draining
/// nodes, and migrates with both when its node is drained (<see cref="ClusterStateActivations"/>).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class AutoscalerStateGrain(
    ClusterStateActivations stateGrains,
    [PersistentState("requests", ClusterStateStorageOptions.ProviderName)] IPersistentState<ResourceRequestRecord> requests)
    : Grain, IAutoscalerStateGrain, IGrainMigrationParticipant
{
    private AutoscalerState? _state;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        return Task.CompletedTask;
    }

    // The request migrates with the grain as its persistent state does (Orleans' storage bridge takes part in
    // migration); only the in-memory state is carried here.
    public void OnDehydrate(IDehydrationContext context) => context.TryAddValue("state", _state);

    public void OnRehydrate(IRehydrationContext context)
    {
        if (context.TryGetValue("state", out AutoscalerState? state))
        {
            _state = state;
        }
    }

    public async Task RequestResourcesAsync(ResourceSet[] bundles)
    {
        ArgumentNullException.ThrowIfNull(bundles);
        requests.State.Bundles = bundles;
        await requests.WriteStateAsync();
    }

    public Task<ResourceSet[]> GetResourceRequestsAsync() => Task.FromResult(requests.State.Bundles);

    public Task PublishAsync(AutoscalerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
        return Task.CompletedTask;
    }

    public Task<AutoscalerState?> GetStateAsync() => Task.FromResult(_state);
}
