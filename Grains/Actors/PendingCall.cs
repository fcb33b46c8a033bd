using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>An actor call waiting for its turn or running, with the reply its caller's grain call is waiting on.</summary>
internal sealed class PendingCall(ActorCall call)
{
    public ActorCall Call { get; } = call;

    /// <summary>
    /// Completed inline on the executor's thread: its one awaiter is either the grain call's reply (which
    /// Orleans posts to the grain's scheduler) or a local caller's continuation, queued to the thread pool.
    /// </summary>
    public TaskCompletionSource<ObjectValue> Reply { get; } = new();

    /// <summary>When it reached the actor's node (UTC), for the state API.</summary>
    public DateTime CreationTime { get; } = DateTime.UtcNow;

    /// <summary>When its method started (UTC); null while it waits its turn.</summary>
    public DateTime? StartTime { get; set; }

    /// <summary>The worker context its method runs in (its output's pending line is flushed when it ends).</summary>
    public Runtime.WorkerContext? Context { get; set; }
}
