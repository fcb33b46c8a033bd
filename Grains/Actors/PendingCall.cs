using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>
/// An actor call waiting for its turn or running, and its reply. A caller in another process awaits
/// <see cref="Reply"/> (its grain call's answer); a caller in the actor's own process is called back instead
/// (<see cref="ActorMailbox.TryPostLocal"/>), which saves the task, its continuation and their state per call.
/// </summary>
internal sealed class PendingCall(ActorCall call) : IThreadPoolWorkItem
{
    private ObjectValue? _value;
    private TaskCompletionSource<ObjectValue>? _reply;
    private IActorCallOwner? _owner;
    private ActorId _actor;
    private int _attempt;
    private ObjectId[]? _pins;

    public ActorCall Call { get; } = call;

    /// <summary>When it reached the actor's node (UTC), for the state API.</summary>
    public DateTime CreationTime { get; } = DateTime.UtcNow;

    /// <summary>When its method started (UTC); null while it waits its turn.</summary>
    public DateTime? StartTime { get; set; }

    /// <summary>The worker context its method runs in (its output's pending line is flushed when it ends).</summary>
    public Runtime.WorkerContext? Context { get; set; }

    /// <summary>Its caller is in this process and is called back with the reply (which cannot be lost on its way).</summary>
    public bool CalledBack => _owner is not null;

    /// <summary>The reply once made; null while the call waits or runs.</summary>
    public ObjectValue? Value => Volatile.Read(ref _value);

    /// <summary>
    /// The reply as a task, made on first use (only callers that await one pay for it). It completes on the
    /// thread that replies: its awaiter is the grain call's reply, which Orleans posts to its own scheduler.
    /// </summary>
    public Task<ObjectValue> Reply
    {
        get
        {
            lock (this)
            {
                if (_value is { } value)
                {
                    return Task.FromResult(value);
                }

                return (_reply ??= new TaskCompletionSource<ObjectValue>()).Task;
            }
        }
    }

    /// <summary>
    /// Has the call's owner in this process called back with the reply (on the thread pool), instead of a task;
    /// <paramref name="pins"/> go back with it when the owner does not track the call.
    /// </summary>
    public void CallBack(IActorCallOwner owner, ActorId actor, int attempt, ObjectId[]? pins)
    {
        _owner = owner;
        _actor = actor;
        _attempt = attempt;
        _pins = pins;
    }

    /// <summary>Sets the reply; false when there is one already (the first counts).</summary>
    public bool TryReply(ObjectValue value)
    {
        TaskCompletionSource<ObjectValue>? waiting;
        lock (this)
        {
            if (_value is not null)
            {
                return false;
            }

            _value = value;
            waiting = _reply;
        }

        waiting?.TrySetResult(value);
        if (_owner is not null)
        {
            // Never on the executor's thread: a caller that blocks on this actor must not stall the executor that would answer it.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }

        return true;
    }

    void IThreadPoolWorkItem.Execute() => _owner!.OnCallReply(_actor, Call, _attempt, _value!, _pins);
}
