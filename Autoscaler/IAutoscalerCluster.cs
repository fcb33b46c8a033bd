using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>
/// What the autoscaler reads from and writes to the cluster each round: an interface so that the round's logic is
/// tested on written-out cluster states, and run against the grains (<see cref="GrainAutoscalerCluster"/>).
/// </summary>
internal interface IAutoscalerCluster
{
    /// <summary>Nodes with their load, demands queued on them, infeasible demands.</summary>
    Task<ClusterStatus> GetStatusAsync();

    /// <summary>The standing <c>RequestResourcesAsync</c> bundles.</summary>
    Task<ResourceSet[]> GetResourceRequestsAsync();

    /// <summary>Starts draining a node before it is stopped, or reports how far its drain is (Ray's DrainNode).</summary>
    Task<DrainStatus> DrainAsync(string nodeId);

    /// <summary>Cancels a node's drain: it takes work again and is kept.</summary>
    Task CancelDrainAsync(string nodeId);

    /// <summary>Makes the autoscaler's state visible to the status.</summary>
    Task PublishAsync(AutoscalerState state);
}
