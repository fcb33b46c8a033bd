using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// Where drivers and the autoscaler meet (a slice of Ray's GCS autoscaler state): the explicit resource requests
/// of <c>RequestResourcesAsync</c> (Ray's <c>ray.autoscaler.sdk.request_resources</c>), which the autoscaler reads
/// every round, and the autoscaler's own state and decisions, which the status shows. Held in memory by one
/// activation (key 0): a restart of the silo hosting it forgets both until a driver asks again and the next
/// round publishes.
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
