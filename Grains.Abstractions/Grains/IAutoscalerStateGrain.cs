using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// Where drivers and the autoscaler meet (a slice of Ray's GCS autoscaler state): the explicit resource requests
/// of <c>RequestResourcesAsync</c> (Ray's <c>ray.autoscaler.sdk.request_resources</c>), which the autoscaler reads
/// every round, and the autoscaler's own state and decisions, which the status shows. One activation (key 0):
/// the request is kept in the cluster-state grain storage (Redis on a Redis cluster), so it outlives the silo
/// hosting it; the state is in memory, published again by the next round.
/// </summary>
public interface IAutoscalerStateGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Replaces the standing resource request: the cluster should be able to hold all of
    /// <paramref name="bundles"/> at once, on top of nothing else (Ray's semantics: a later call replaces the
    /// earlier one; an empty list clears it).
    /// </summary>
    Task RequestResourcesAsync(ResourceSet[] bundles);

    /// <summary>The standing resource request (empty when none).</summary>
    [AlwaysInterleave]
    Task<ResourceSet[]> GetResourceRequestsAsync();

    /// <summary>Stores the autoscaler's latest state.</summary>
    Task PublishAsync(AutoscalerState state);

    /// <summary>The autoscaler's latest state; null when no autoscaler has published one.</summary>
    [AlwaysInterleave]
    Task<AutoscalerState?> GetStateAsync();
}
