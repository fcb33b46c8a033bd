using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Autoscaling;

/// <summary>
/// Holds the standing resource request and the autoscaler's latest state in memory. Kept alive: an idle
/// deactivation would forget a request a driver made once and expects to stand (as Ray's does until replaced).
/// Placed off draining nodes, and migrates with both when its node is drained (<see cref="ClusterStateActivations"/>).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class AutoscalerStateGrain(ClusterStateActivations stateGrains) : Grain, IAutoscalerStateGrain, IGrainMigrationParticipant
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext context)
    {
        context.TryAddValue("requests", _requests);
        context.TryAddValue("state", _state);
    }

    public void OnRehydrate(IRehydrationContext context)
    {
        if (context.TryGetValue("requests", out ResourceSet[]? requests) && requests is not null)
        {
            _requests = requests;
        }

        if (context.TryGetValue("state", out AutoscalerState? state))
        {
            _state = state;
        }
    }

    private ResourceSet[] _requests = [];
    private AutoscalerState? _state;

    public Task RequestResourcesAsync(ResourceSet[] bundles)
    {
        ArgumentNullException.ThrowIfNull(bundles);
        _requests = bundles;
        return Task.CompletedTask;
    }

    public Task<ResourceSet[]> GetResourceRequestsAsync() => Task.FromResult(_requests);

    public Task PublishAsync(AutoscalerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
        return Task.CompletedTask;
    }

    public Task<AutoscalerState?> GetStateAsync() => Task.FromResult(_state);
}
