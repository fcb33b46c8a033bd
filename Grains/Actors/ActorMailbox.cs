using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>
/// An actor's incoming calls: puts each caller's calls back into submission order by sequence number
/// (Orleans does not promise message order), then runs them on the thread pool with at most
/// <c>MaxConcurrency</c> runners at once. It is thread-safe, so a caller in the actor's own process posts here
/// directly (<see cref="LocalActors"/>) while calls from elsewhere arrive through the actor's grain; both
/// meet in the same order.
/// </summary>
internal sealed class ActorMailbox
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, CallerQueue> _callers = new();
    private readonly Queue<PendingCall> _ready = new();
    /// <summary>
    /// Calls posted and not yet answered, by call id: what <see cref="Held"/> reports, and where a second
    /// delivery of the same call (sent again while the first still waits or runs) gets its answer.
    /// </summary>
    private readonly Dictionary<Guid, PendingCall> _held = [];

    /// <summary>
    /// The most recent replies, by call id, for callers whose reply was lost on its way back (a gateway that
    /// died carrying it): they are answered from here instead of running the call again. Bounded by count and
    /// by inline bytes; a reply that fell out is reported as neither held nor kept.
    /// </summary>
    private readonly Dictionary<Guid, (ObjectValue Reply, int Rebuild)> _replies = [];
    private readonly Queue<(Guid Id, long At)> _replyOrder = new();
    private long _replyBytes;
    // A lost reply is looked for within seconds (a driver asks every 5 s, twice), so a minute is plenty; the
    // count and bytes keep an actor that answers fast and big from holding much.
    private const int KeptReplies = 1024;
    private const long KeptReplyBytes = 1 << 20;
    private static readonly long KeptReplyMilliseconds = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private Func<PendingCall, Task>? _execute;
    private int _maxRunners;
    private int _runners;
    private bool _rebase;
    private int _busy;
    private bool _closed;

    /// <summary>The actor is built: run the calls in order, at most <paramref name="maxConcurrency"/> at once.</summary>
    public void Start(Func<PendingCall, Task> execute, int maxConcurrency)
    {
        lock (_gate)
        {
            _execute = execute;
            _maxRunners = Math.Max(1, maxConcurrency);
            StartRunners();
        }
    }

    /// <summary>
    /// Queues a call in its caller's order; null when the mailbox is closed (the actor died), so the caller
    /// answers with the death instead.
    /// </summary>
    public Task<ObjectValue>? Post(ActorCall call) => PostCore(new PendingCall(call))?.Reply;

    /// <summary>
    /// Queues a call from its owner in this process, which <paramref name="owner"/> is called back with the reply
    /// of (no task per call), with <paramref name="pins"/>. False when the mailbox is closed. <paramref name="earlier"/> is set instead when the
    /// call was delivered before (sent again): its reply is the earlier delivery's.
    /// </summary>
    public bool TryPostLocal(ActorCall call, IActorCallOwner owner, ActorId actor, int attempt, ObjectId[]? pins, out Task<ObjectValue>? earlier)
    {
        var pending = new PendingCall(call);
        pending.CallBack(owner, actor, attempt, pins); // before it is queued: a runner may answer it at once
        earlier = null;
        if (PostCore(pending) is not { } posted)
        {
            return false;
        }

        if (!ReferenceEquals(posted, pending))
        {
            earlier = posted.Reply;
        }

        return true;
    }

    /// <summary>Queues <paramref name="pending"/>, or returns the earlier delivery that answers it instead; null when closed.</summary>
    private PendingCall? PostCore(PendingCall pending)
    {
        var call = pending.Call;
        lock (_gate)
        {
            if (_closed)
            {
                return null;
            }

            // A kept reply of this or a later rebuild answers a call sent again after its reply was lost (the same
            // answer, not a second run); an older one points at a lost copy, and the rebuild runs (Keep replaces it).
            if (_replies.TryGetValue(call.CallId, out var answered) && answered.Rebuild >= call.Rebuild)
            {
                var kept = new PendingCall(call);
                kept.TryReply(answered.Reply);
                return kept;
            }

            if (_held.TryGetValue(call.CallId, out var running) && running.Call.Rebuild >= call.Rebuild)
            {
                return running; // the same call delivered twice while it waits or runs: one run, one answer
            }

            _held[call.CallId] = pending;
            if (!_callers.TryGetValue(call.CallerId, out var caller))
            {
                _callers[call.CallerId] = caller = new CallerQueue();
            }

            if (call.Sequence < caller.Next)
            {
                // Already past it: a call sent again after the actor's node died. Run it; never drop it.
                Ready(pending);
                return pending;
            }

            if (call.Sequence == caller.Next && caller.Pending.Count == 0 && (!_rebase || caller.Started))
            {
                // Its turn, with nothing out of order waiting (the common case): no trip through the sorted queue.
                caller.Next++;
                Ready(pending);
                return pending;
            }

            caller.Pending[call.Sequence] = pending;
            if (_rebase)
            {
                Rebase(caller);
            }

            Drain(caller);
        }

        return pending;
    }

    /// <summary>Calls waiting or running here (a racy read, for the state API).</summary>
    public int HeldCount => _held.Count;

    /// <summary>The calls waiting or running here, described for the state API.</summary>
    public List<TaskState> Live(ActorId actor, string node)
    {
        lock (_gate)
        {
            var live = new List<TaskState>(_held.Count);
            foreach (var pending in _held.Values)
            {
                if (pending.Value is null)
                {
                    live.Add(ActorExecutor.Describe(pending, actor, node, pending.StartTime is null ? TaskStates.PendingNodeAssignment : TaskStates.Running, null));
                }
            }

            return live;
        }
    }

    /// <summary>
    /// Which of <paramref name="calls"/> this mailbox holds (waiting or running), the kept replies of answered
    /// ones, and which never arrived (their caller's order has not reached them).
    /// </summary>
    public HeldCalls Held(ActorCall[] calls)
    {
        lock (_gate)
        {
            var held = new List<Guid>();
            var replies = new Dictionary<Guid, ObjectValue>();
            var notArrived = new List<Guid>();
            foreach (var call in calls)
            {
                if (_held.ContainsKey(call.CallId))
                {
                    held.Add(call.CallId);
                }
                else if (_replies.TryGetValue(call.CallId, out var reply) && reply.Rebuild >= call.Rebuild)
                {
                    replies[call.CallId] = reply.Reply;
                }
                else if (!_closed && (!_callers.TryGetValue(call.CallerId, out var caller) || call.Sequence >= caller.Next))
                {
                    notArrived.Add(call.CallId);
                }
            }

            return new HeldCalls { Held = [.. held], Replies = replies, NotArrived = [.. notArrived] };
        }
    }

    private void Keep(ActorCall call, ObjectValue reply)
    {
        var bytes = reply.Inline?.Length ?? 0;
        if (_replies.TryGetValue(call.CallId, out var kept))
        {
            if (kept.Rebuild < call.Rebuild)
            {
                _replies[call.CallId] = (reply, call.Rebuild); // a rebuild's answer replaces the one that pointed at the lost copy
                _replyBytes += bytes - (kept.Reply.Inline?.Length ?? 0);
            }

            return;
        }

        var now = Environment.TickCount64;
        _replies[call.CallId] = (reply, call.Rebuild);
        _replyOrder.Enqueue((call.CallId, now));
        _replyBytes += bytes;
        while (_replyOrder.TryPeek(out var oldest) &&
               (_replyOrder.Count > KeptReplies || _replyBytes > KeptReplyBytes || now - oldest.At > KeptReplyMilliseconds))
        {
            _replyOrder.Dequeue();
            if (_replies.Remove(oldest.Id, out var dropped))
            {
                _replyBytes -= dropped.Reply.Inline?.Length ?? 0;
            }
        }
    }

    /// <summary>
    /// This incarnation rebuilds an actor lost with its node: callers' sequence numbers go on from where they
    /// were, so each caller's first call here sets where its order starts.
    /// </summary>
    public void StartRebased()
    {
        lock (_gate)
        {
            _rebase = true;
            foreach (var caller in _callers.Values)
            {
                Rebase(caller);
            }
        }
    }

    /// <summary>Closes the mailbox (the actor died): returns every call not yet run, queued or out of order.</summary>
    public List<PendingCall> Close()
    {
        lock (_gate)
        {
            _closed = true;
            _held.Clear();
            var pending = new List<PendingCall>(_ready);
            _ready.Clear();
            pending.AddRange(_callers.Values.SelectMany(c => c.Pending.Values));
            _callers.Clear();
            return pending;
        }
    }

    private void Drain(CallerQueue caller)
    {
        while (caller.Pending.Remove(caller.Next, out var next))
        {
            caller.Next++;
            Ready(next);
        }
    }

    private void Ready(PendingCall call)
    {
        _ready.Enqueue(call);
        StartRunners();
    }

    private void StartRunners()
    {
        // A runner busy with a call takes no other until it is done: count only the idle ones against the queue.
        while (_execute is not null && _runners < _maxRunners && _runners - _busy < _ready.Count)
        {
            _runners++;
            ThreadPool.UnsafeQueueUserWorkItem(static mailbox => _ = mailbox.RunAsync(), this, preferLocal: false);
        }
    }

    /// <summary>One runner: takes ready calls in order until none is left.</summary>
    private async Task RunAsync()
    {
        while (true)
        {
            PendingCall next;
            lock (_gate)
            {
                if (_closed || !_ready.TryDequeue(out next!))
                {
                    _runners--;
                    return;
                }

                _busy++;
            }

            try
            {
                // The executor answers every call, failures included; it never throws.
                await _execute!(next).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                {
                    _busy--;
                    if (_held.TryGetValue(next.Call.CallId, out var current) && ReferenceEquals(current, next))
                    {
                        _held.Remove(next.Call.CallId);
                    }
                    // Kept for a caller elsewhere, whose reply may be lost with a gateway on its way back; a caller in
                    // this process is called back directly. Keeping those too held every local reply for the next
                    // thousand calls: one that outlived young collections, with its entries here, per call.
                    if (next.Value is { } reply && !next.CalledBack)
                    {
                        Keep(next.Call, reply);
                    }
                }
            }
        }
    }

    private void Rebase(CallerQueue caller)
    {
        if (!caller.Started && caller.Pending.Count > 0)
        {
            caller.Next = caller.Pending.Keys.First();
        }

        caller.Started = true;
        Drain(caller);
    }

    private sealed class CallerQueue
    {
        public long Next;
        public bool Started;
        public SortedDictionary<long, PendingCall> Pending { get; } = new();
    }
}
