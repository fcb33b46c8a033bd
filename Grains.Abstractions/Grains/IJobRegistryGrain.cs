using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// The cluster's drivers (key 0): each registers when it connects and sends a heartbeat every few seconds.
/// One silent for the timeout is declared lost: its job's non-detached actors are killed and the nodes drop its
/// code. Held in memory; a driver whose heartbeat is not recognised (the grain moved after its silo died)
/// registers again.
/// </summary>
public interface IJobRegistryGrain : IGrainWithIntegerKey
{
    // Interleaving: a job's clean-up (seconds, cluster-wide) must never hold other drivers' heartbeats back.

    /// <summary>A driver connected (or registers again).</summary>
    [AlwaysInterleave]
    Task RegisterAsync(DriverJob driver);

    /// <summary>The driver is alive; false when this grain does not know it (register again).</summary>
    [AlwaysInterleave]
    Task<bool> HeartbeatAsync(string jobId);

    /// <summary>The driver exits cleanly (it killed its own actors).</summary>
    [AlwaysInterleave]
    Task ExitedAsync(string jobId);

    /// <summary>
    /// Ends a job from outside (its driver was stopped: <c>job stop</c>): its non-detached actors are killed and the
    /// nodes drop its code now, without waiting for the heartbeat timeout. Returns how many actors were killed.
    /// </summary>
    [AlwaysInterleave]
    Task<int> StopAsync(string jobId, string reason);

    /// <summary>The drivers known, running and ended (the last 1,000 ended).</summary>
    [AlwaysInterleave]
    Task<DriverJob[]> ListAsync();
}
