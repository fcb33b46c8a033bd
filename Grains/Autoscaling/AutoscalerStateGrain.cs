using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Autoscaling;

/// <summary>
/// Holds the standing resource request and the autoscaler's latest state in memory. Kept alive: an idle
/// deactivation would forget a request a driver made once and expects to stand (as Ray's does until replaced).
/// </summary>
[KeepAlive]
internal sealed class AutoscalerStateGrain : Grain, IAutoscalerStateGrain
{
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
