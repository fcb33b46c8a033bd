using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>The cluster as the grains hold it: the resource view, and the autoscaler state grain.</summary>
internal sealed class GrainAutoscalerCluster(IGrainFactory grains) : IAutoscalerCluster
{
    public Task<ClusterStatus> GetStatusAsync() => grains.GetGrain<IClusterResourcesGrain>(0).GetStatusAsync();

    public Task<ResourceSet[]> GetResourceRequestsAsync() => grains.GetGrain<IAutoscalerStateGrain>(0).GetResourceRequestsAsync();

    public Task<DrainStatus> DrainAsync(string nodeId) => grains.GetGrain<INodeGrain>(nodeId).DrainAsync();

    public Task CancelDrainAsync(string nodeId) => grains.GetGrain<INodeGrain>(nodeId).CancelDrainAsync();

    public Task PublishAsync(AutoscalerState state) => grains.GetGrain<IAutoscalerStateGrain>(0).PublishAsync(state);
}
