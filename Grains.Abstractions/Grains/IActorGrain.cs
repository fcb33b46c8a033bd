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
    /// Runs a method call in its caller's order and replies with its result (inline when small, else where
    /// it is stored) or its error; the call stays open while it waits for its turn and runs.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout(RayTimeouts.LongCall)]
    Task<ObjectValue> CallAsync(ActorCall call);

    /// <summary>
    /// Takes several calls in one message (a driver outside the cluster sends those that come while others of its
    /// calls wait on this actor) and answers once they are queued; each call's reply, what <see cref="CallAsync"/>
    /// would reply, goes to <paramref name="owner"/> in a batch (<see cref="IObjectOwner.TasksRepliedAsync"/>, the
    /// call's id as the task id). It times out after 10 s: the calls may have arrived, so the driver leaves them to
    /// its check for lost replies (<see cref="HeldCallsAsync"/>).
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:00:10")]
    Task CallManyAsync(ActorCall[] calls, IObjectOwner owner);

    /// <summary>
    /// Which of <paramref name="calls"/> this actor still holds (waiting for their turn, or running), and the
    /// replies it keeps of those it already answered.
    /// </summary>
    [AlwaysInterleave]
    Task<HeldCalls> HeldCallsAsync(ActorCall[] calls);

    /// <summary>Kills the actor: pending and later calls fail with <c>ActorDiedException</c>; without <paramref name="noRestart"/> it restarts if it may.</summary>
    [AlwaysInterleave]
    Task KillAsync(bool noRestart);

    /// <summary>The actor's state for status and tests.</summary>
    [AlwaysInterleave]
    Task<ActorInfo> GetInfoAsync();
}
