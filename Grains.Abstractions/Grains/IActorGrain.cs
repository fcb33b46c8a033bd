using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>Hosts one actor: one instance of the user's class, created once, called in order.</summary>
public interface IActorGrain : IGrainWithGuidKey
{
    /// <summary>Creates the actor's instance; completes when it is constructed (or throws why not), with the node it lives on.</summary>
    [AlwaysInterleave]
    Task<string> CreateAsync(ActorSpec spec);

    /// <summary>Marks the actor dead for <paramref name="cause"/> (its node was lost and it may not restart): calls fail at once.</summary>
    [AlwaysInterleave]
    Task FailAsync(string cause);

    /// <summary>
    /// Queues a method call; returns once queued, with the node the actor lives on (so the caller can tell
    /// when the call is lost with that node). The result is published as <c>ObjectId(call.CallId, 1)</c>.
    /// </summary>
    [AlwaysInterleave]
    Task<string> SubmitAsync(ActorCall call);

    /// <summary>Kills the actor: pending and later calls fail with <c>ActorDiedException</c>; without <paramref name="noRestart"/> it restarts if it may.</summary>
    [AlwaysInterleave]
    Task KillAsync(bool noRestart);

    /// <summary>The actor's state for status and tests.</summary>
    [AlwaysInterleave]
    Task<ActorInfo> GetInfoAsync();
}
