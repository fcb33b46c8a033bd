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

    /// <summary>Makes the autoscaler's state visible to the status.</summary>
    Task PublishAsync(AutoscalerState state);
}
