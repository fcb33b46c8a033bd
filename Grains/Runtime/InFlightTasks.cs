using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// The tasks and actor calls this process sent and has no reply for yet, and the actors it created. When
/// the node holding one dies, a task is sent again elsewhere under the same id, up to its <c>MaxRetries</c>,
/// or fails with a NodeDied error; a call is sent again to the actor's next incarnation within the actor's
/// <c>MaxTaskRetries</c>, or fails with <see cref="ActorDiedException"/>, whoever created the actor; an actor
/// is built again within its <c>MaxRestarts</c> by its supervisor in the cluster (<c>ActorSupervisorGrain</c>),
/// which this process follows. A loss is noticed two ways: the open call fails (Orleans breaks calls to a silo that
/// membership declares dead), or the once-a-second sweep finds the entry's node dead in membership. Each
/// entry counts its attempts, so the two never resend the same attempt twice.
/// </summary>
internal sealed partial class InFlightTasks : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly RayRuntime _runtime;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _started;

    public InFlightTasks(RayRuntime runtime, ILogger logger)
    {
        _runtime = runtime;
        _logger = logger;
    }

    public int Count => _entries.Count;

    // ------------------------------------------------------------------ tasks and calls

    /// <param name="spec">The task.</param>
    /// <param name="pins">Owned objects among its arguments, counted as referenced until the task is done.</param>
    public void Track(TaskSpec spec, ObjectId[]? pins)
    {
        _entries[spec.TaskId] = new Entry(spec.TaskId, spec.Name) { Spec = spec, Pins = pins };
        EnsureLoop();
    }

    public void TrackActorCall(ActorId actor, ActorCall call, ObjectId[]? pins)
    {
        var incarnation = _entries.TryGetValue(actor.Value, out var creator) && creator.Actor is { } spec ? spec.Restarts : 0;
        _entries[call.CallId] = new Entry(call.CallId, call.Name) { Call = call, Target = actor, Pins = pins, Incarnation = incarnation };
        EnsureLoop();
    }

    /// <summary>A call left this process (the reconcile only asks about work that has left).</summary>
    public void CallSent(Guid callId)
    {
        if (_entries.TryGetValue(callId, out var entry))
        {
            entry.SentAt = Environment.TickCount64;
            entry.Unheld = 0;
        }
    }

    /// <summary>Stops watching a task or call, and releases the objects its arguments pinned.</summary>
    private bool Drop(Guid id)
    {
        if (!_entries.TryRemove(id, out var entry))
        {
            return false;
        }

        foreach (var pin in entry.Pins ?? [])
        {
            _runtime.Owned.Release(pin);
        }

        return true;
    }

    /// <summary>The task left for <paramref name="node"/>; false when it is no longer tracked (cancelled before it left).</summary>
    public bool Sent(Guid id, string node)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return false;
        }

        entry.Node = node;
        entry.SentAt = Environment.TickCount64;
        entry.Unheld = 0;
        return true;
    }

    /// <summary>A tracked task's spec; null when it is not tracked (or is an actor call).</summary>
    public TaskSpec? SpecOf(Guid id) => _entries.TryGetValue(id, out var entry) ? entry.Spec : null;

    /// <summary>The node a task was sent to; null when it has not left (or is not tracked).</summary>
    public string? NodeOf(Guid id) => _entries.TryGetValue(id, out var entry) && entry.Spec is not null ? entry.Node : null;

    /// <summary>Stops watching a task without releasing its pins, which are returned for the task's next send.</summary>
    public ObjectId[]? Untrack(Guid id) => _entries.TryRemove(id, out var entry) ? entry.Pins : null;

    /// <summary>The reply came (or the failure is final): nothing more to watch.</summary>
    public void Finished(Guid id) => Drop(id);

    /// <summary>The current attempt of a tracked task or call; -1 when not tracked.</summary>
    public int AttemptOf(Guid id) => _entries.TryGetValue(id, out var entry) ? entry.Attempt : -1;

    /// <summary>Takes a task that has not left this process yet out of tracking, so it is never sent; null when it has left.</summary>
    public TaskSpec? TryCancelUnsent(Guid id)
    {
        if (_entries.TryGetValue(id, out var entry) && entry.Spec is { } spec && entry.Node is null && Drop(id))
        {
            return spec;
        }

        return null;
    }

    /// <summary>Attempt <paramref name="attempt"/> of a task was lost with its node: send it again, or fail it.</summary>
    public void Lost(Guid id, int attempt, string? node, bool replyLost = false)
    {
        if (!_entries.TryGetValue(id, out var entry) || entry.Spec is not { } spec || !entry.TryNextAttempt(attempt))
        {
            return;
        }

        var lostOn = node ?? entry.Node;
        if (spec.IsGenerator || (spec.MaxRetries >= 0 && attempt >= spec.MaxRetries))
        {
            Drop(id);
            var why = spec.IsGenerator ? "a streaming generator is not retried, since its values would repeat" : $"MaxRetries = {spec.MaxRetries} retries are used up";
            var error = RayRuntime.SystemError(spec.TaskId, spec.Name, replyLost ? "RayOrleans.ReplyLost" : "RayOrleans.NodeDied",
                replyLost
                    ? $"The reply of task '{spec.Name}' from node {lostOn} was lost (a gateway died carrying it), and {why}."
                    : $"Node {lostOn} died while running task '{spec.Name}', and {why}.");
            if (replyLost)
            {
                // Its node, alive, keeps the attempt's row (it ended there): one here would count it twice.
                _ = ReleaseUnrepliedAsync(spec, lostOn);
            }
            else
            {
                _runtime.OwnerEvents.TaskEnded(spec, attempt, lostOn, error, retried: false);
            }

            _runtime.FailReturns(spec, error);
            return;
        }

        LogRetry(_logger, spec.Name, spec.TaskId, lostOn ?? "?", attempt + 1);
        entry.Node = null;
        if (replyLost)
        {
            // Its node lives and keeps the attempt's row (it ended there), so none is added here. The retry leaves once
            // the first run's stored returns are freed (a retry on the same node stores its own copy), numbered after
            // the node's last attempt (it may have retried the task itself on exceptions).
            _ = RetryUnrepliedAsync();
            return;
        }

        _runtime.OwnerEvents.TaskEnded(spec, attempt, lostOn, RayRuntime.SystemError(spec.TaskId, spec.Name, "RayOrleans.NodeDied",
            $"Node {lostOn} died while running task '{spec.Name}'; running it again."), retried: true);
        _runtime.Dispatch(spec with { Spillbacks = 0 }, attempt + 1);

        async Task RetryUnrepliedAsync()
        {
            var last = await ReleaseUnrepliedAsync(spec, lostOn).ConfigureAwait(false);
            if (spec.MaxRetries >= 0 && last >= spec.MaxRetries && Drop(id))
            {
                // The node's own retries used up the rest of the budget.
                _runtime.FailReturns(spec, RayRuntime.SystemError(spec.TaskId, spec.Name, "RayOrleans.ReplyLost",
                    $"The reply of task '{spec.Name}' from node {lostOn} was lost (a gateway died carrying it), and MaxRetries = {spec.MaxRetries} retries are used up."));
                return;
            }

            var next = last > attempt && entry.TryNextAttempt(attempt + 1, last + 1) ? last + 1 : attempt + 1;
            _runtime.Dispatch(spec with { Spillbacks = 0 }, next);
        }
    }

    /// <summary>
    /// A task whose reply was lost ran to its end on <paramref name="node"/>, which is alive and may have stored its
    /// returns there: nobody can read that copy (the reply naming it is gone), so it is freed rather than leaked.
    /// Answers the last attempt the node recorded for it (-1 when unknown). Never fails: a node that does not
    /// answer in time keeps the copy (logged).
    /// </summary>
    private async Task<int> ReleaseUnrepliedAsync(TaskSpec spec, string? node)
    {
        if (node is null)
        {
            return -1;
        }

        try
        {
            return await _runtime.Node(node).ReleaseUnrepliedAsync(spec.TaskId, spec.IsGenerator ? 0 : spec.NumReturns).WaitAsync(ReconcileEvery).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or ObjectDisposedException)
        {
            LogReconcileFailed(_logger, node, e);
            return -1;
        }
    }

    /// <summary>
    /// Attempt <paramref name="attempt"/> of a task was cancelled by its node's memory monitor: sends it again
    /// while its MaxRetries allow (true), else false and the cancellation is its result.
    /// </summary>
    /// <param name="id">The task.</param>
    /// <param name="attempt">The attempt this process sent.</param>
    /// <param name="node">The node that cancelled it.</param>
    /// <param name="why">The memory monitor's reason.</param>
    /// <param name="ranAs">
    /// The attempt's number on its node, past <paramref name="attempt"/> by the retries the node made itself on
    /// exceptions: the retry is numbered after it, and those retries count against MaxRetries. The node, which
    /// is alive, keeps the attempt's row, so none is added here (it would count twice).
    /// </param>
    public bool RetryAfterMemoryKill(Guid id, int attempt, string node, string why, int ranAs)
    {
        ranAs = Math.Max(attempt, ranAs);
        if (!_entries.TryGetValue(id, out var entry) || entry.Spec is not { } spec || (spec.MaxRetries >= 0 && ranAs >= spec.MaxRetries) ||
            !entry.TryNextAttempt(attempt, ranAs + 1))
        {
            return false;
        }

        LogMemoryRetry(_logger, spec.Name, spec.TaskId, node, ranAs + 1, why);
        entry.Node = null;
        _runtime.Dispatch(spec with { Spillbacks = 0 }, ranAs + 1);
        return true;
    }

    /// <summary>
    /// Attempt <paramref name="attempt"/> of an actor call failed because it could not be carried to the actor
    /// (the actor's node died, or the connection the call went through). The call is parked, not sent again at
    /// once: until membership declares a killed node dead (seconds) every send would fail the same way. The sweep
    /// decides once it knows where the actor stands (ResendParked): from this process's own record when it
    /// created the actor, else from the actor's cluster-side supervisor, which restarts it.
    /// </summary>
    /// <param name="id">The call.</param>
    /// <param name="attempt">The attempt that was lost.</param>
    /// <param name="node">The actor's node, when known.</param>
    /// <param name="delivered">
    /// The call may have reached the actor (the connection broke while it was pending), as opposed to a send
    /// refused before it left (such a call never ran, so sending it again is not a retry).
    /// </param>
    public void CallLost(Guid id, int attempt, string? node, bool delivered)
    {
        if (!_entries.TryGetValue(id, out var entry) || entry.Call is not { } call || entry.Target is not { } target || !entry.TryNextAttempt(attempt))
        {
            return;
        }

        entry.MayHaveRun |= delivered;
        string? actorNode = null;
        if (_entries.TryGetValue(target.Value, out var actor) && actor.Actor is not null)
        {
            actorNode = actor.Node ?? actor.LostOn;
        }
        else
        {
            // Created elsewhere: its supervisor says where it stands; until asked, which incarnation the call
            // went to is unknown (the status's age tells, see ResendParked).
            _watched.TryAdd(target, null);
            if (entry.ParkedAt == 0)
            {
                entry.Incarnation = UnknownIncarnation;
            }
        }

        _runtime.OwnerEvents.CallEnded(call, target, attempt, node ?? actorNode, new RayErrorInfo
        {
            Kind = RayErrorKind.ActorUnavailable, ExceptionType = "RayOrleans.CallLost", TaskName = call.Name, TaskId = call.CallId, Node = node ?? actorNode,
            Message = $"'{call.Name}' could not be carried to its actor on node {node ?? actorNode ?? "?"}; it waits for the actor's node to be declared alive or dead, then is sent again or fails.",
        }, retried: true);
        if (entry.ParkedAt == 0)
        {
            entry.ParkedAt = Environment.TickCount64; // the wait counts from the first loss, however often a send is refused
        }

        entry.Parked = true;
        LogCallParked(_logger, call.Name, call.CallId, node ?? actorNode ?? "?");
    }

    /// <summary>A call's incarnation when it went to an actor this process did not create: not known to the caller.</summary>
    private const int UnknownIncarnation = -1;

    /// <summary>
    /// Actors created elsewhere that calls of this process are parked on, with what their supervisor last said
    /// (null until asked). Entries go once no parked call needs them.
    /// </summary>
    private readonly ConcurrentDictionary<ActorId, ActorStatus?> _watched = new();

    private void FailCall(Entry entry, RayErrorKind kind, string? node, string why)
    {
        var call = entry.Call!;
        Drop(entry.Id);
        var error = new RayErrorInfo
        {
            Kind = kind, TaskName = call.Name, TaskId = call.CallId, Node = node,
            ExceptionType = (kind == RayErrorKind.ActorUnavailable ? typeof(ActorUnavailableException) : typeof(ActorDiedException)).FullName!,
            Message = $"'{call.Name}' could not be carried to its actor{(node is null ? "" : " on node " + node)}, and {why}.",
        };
        if (entry.Target is { } target)
        {
            // The last attempt that was lost: its row now says the call failed for good.
            _runtime.OwnerEvents.CallEnded(call, target, Math.Max(0, entry.Attempt - 1), node, error, retried: false);
        }

        _runtime.FailReturns(call.CallId, 1, false, error);
    }

    /// <summary>How long a parked call waits for its actor to be reachable again before it fails.</summary>
    private static readonly TimeSpan ParkLimit = TimeSpan.FromMinutes(2);

    /// <summary>Fails the calls parked for longer than <see cref="ParkLimit"/> since their first loss.</summary>
    private void FailOverdueParked()
    {
        var now = Environment.TickCount64;
        foreach (var entry in _entries.Values)
        {
            if (entry.Parked && entry.ParkedAt != 0 && now - entry.ParkedAt > (long)ParkLimit.TotalMilliseconds)
            {
                entry.Parked = false;
                var node = entry.Target is { } t && _entries.TryGetValue(t.Value, out var actor) ? actor.Node : null;
                FailCall(entry, RayErrorKind.ActorUnavailable, node, $"the actor could not be reached for {ParkLimit.TotalMinutes:0} minutes");
            }
        }
    }

    /// <summary>
    /// Decides each parked call once its actor's state is known: a call that never left is sent again; one
    /// that may have run is sent again as a retry (to the restarted actor, or to the same one when only the
    /// connection failed) while the actor's MaxTaskRetries allow, else it fails: ActorDiedException when the
    /// actor died, ActorUnavailableException when it is alive and the call's fate is unknown.
    /// </summary>
    private void ResendParked(Dictionary<SiloAddress, SiloStatus> hosts)
    {
        foreach (var entry in _entries.Values)
        {
            if (!entry.Parked || entry.Call is not { } call || entry.Target is not { } target)
            {
                continue;
            }

            string? node;
            int restarts, maxTaskRetries;
            bool restarted;
            if (_entries.TryGetValue(target.Value, out var actor) && actor.Actor is { } spec)
            {
                node = actor.Node; // null while its supervisor restarts it
                restarts = spec.Restarts;
                maxTaskRetries = spec.MaxTaskRetries;
                restarted = spec.Restarts != entry.Incarnation;
            }
            else if (_watched.TryGetValue(target, out var status))
            {
                if (status is null)
                {
                    continue; // not asked yet
                }

                if (!status.Known || status.State == "DEAD")
                {
                    entry.Parked = false;
                    FailCall(entry, RayErrorKind.ActorDied, null, status.Known
                        ? $"actor {status.ClassName} ({target}) died: {status.Cause}"
                        : $"actor {target} died with its node and the cluster does not restart it (it was created with MaxRestarts = 0, or has died for good)");
                    continue;
                }

                if (status.State != "ALIVE")
                {
                    continue; // being restarted
                }

                node = status.Node;
                restarts = status.Restarts;
                maxTaskRetries = status.MaxTaskRetries;
                // The caller does not learn which incarnation a call went to (that would cost every call): an
                // incarnation younger than the call's send is a later one.
                restarted = entry.Incarnation == UnknownIncarnation
                    ? status.Age < TimeSpan.FromMilliseconds(Environment.TickCount64 - entry.SentAt)
                    : status.Restarts != entry.Incarnation;
            }
            else
            {
                entry.Parked = false;
                FailCall(entry, RayErrorKind.ActorDied, null, "the actor died for good (no restarts left, or it was killed)");
                continue;
            }

            if (node is null || !hosts.TryGetValue(SiloAddress.FromParsableString(node), out var nodeStatus) || nodeStatus != SiloStatus.Active)
            {
                continue; // being restarted, or its node not yet declared dead (its supervisor restarts it then)
            }

            if (entry.MayHaveRun)
            {
                if (maxTaskRetries >= 0 && entry.Retries >= maxTaskRetries)
                {
                    entry.Parked = false;
                    if (restarted)
                    {
                        FailCall(entry, RayErrorKind.ActorDied, node,
                            $"the actor died with the call in flight and was restarted (restart {restarts}); MaxTaskRetries = {maxTaskRetries} retries are used up");
                    }
                    else
                    {
                        FailCall(entry, RayErrorKind.ActorUnavailable, node,
                            $"the actor is alive but the call may have run; MaxTaskRetries = {maxTaskRetries} retries are used up, so it is not sent again");
                    }

                    continue;
                }

                entry.Retries++;
            }

            entry.Incarnation = restarts;
            entry.MayHaveRun = false;
            if (restarted)
            {
                entry.ParkedAt = 0; // progress: a later loss starts its own wait
            }

            entry.Parked = false;
            LogCallResent(_logger, call.Name, call.CallId, node, restarted ? $"restart {restarts}" : "the same incarnation", entry.Retries);
            _runtime.ResendCall(target, call, entry.Attempt);
        }

        // Actors created elsewhere that no parked call waits on any more.
        foreach (var watched in _watched.Keys)
        {
            if (!_entries.Values.Any(e => e.Parked && e.Target == watched))
            {
                _watched.TryRemove(watched, out _);
            }
        }
    }

    /// <summary>
    /// Asks the supervisors where the actors stand that this process waits on: those it created whose node died
    /// (their supervisor restarts them), and those created elsewhere that its parked calls go to. A creator whose
    /// actor's supervisor knows nothing of it (the supervisor died with the actor's node) publishes the record
    /// again from its own copy, so the cluster restarts it.
    /// </summary>
    private async Task FollowSupervisorsAsync()
    {
        var created = _entries.Values.Where(e => e.AwaitingCluster && e.Actor is not null).ToList();
        var elsewhere = _watched.Keys.ToList();
        if (created.Count == 0 && elsewhere.Count == 0)
        {
            return;
        }

        await Task.WhenAll(created.Select(FollowCreatedAsync).Concat(elsewhere.Select(FollowElsewhereAsync))).ConfigureAwait(false);

        async Task FollowCreatedAsync(Entry entry)
        {
            var spec = entry.Actor!;
            var status = await StatusOfAsync(spec.ActorId).ConfigureAwait(false);
            if (status is null || !entry.AwaitingCluster)
            {
                return;
            }

            if (!status.Known)
            {
                LogRepublish(_logger, spec.ClassName, spec.ActorId, entry.LostOn ?? "?");
                await Supervisor(spec.ActorId).SuperviseAsync(spec, entry.LostOn ?? "").WaitAsync(ReconcileEvery).ConfigureAwait(false);
                return;
            }

            if (status.State == "DEAD")
            {
                foreach (var call in _entries.Values.Where(e => e.Parked && e.Target == spec.ActorId).ToList())
                {
                    call.Parked = false;
                    FailCall(call, RayErrorKind.ActorDied, entry.LostOn, $"actor {spec.ClassName} ({spec.ActorId}) died: {status.Cause}");
                }

                _entries.TryRemove(entry.Id, out _);
                return;
            }

            if (status is { State: "ALIVE", Node: { } at } && (status.Restarts > spec.Restarts || at != entry.LostOn))
            {
                entry.Actor = spec with { Restarts = status.Restarts };
                entry.Node = at;
                entry.AwaitingCluster = false;
                LogFollowed(_logger, spec.ClassName, spec.ActorId, at, status.Restarts);
            }
        }

        async Task FollowElsewhereAsync(ActorId actor)
        {
            if (await StatusOfAsync(actor).ConfigureAwait(false) is { } status && _watched.ContainsKey(actor))
            {
                _watched[actor] = status;
            }
        }

        async Task<ActorStatus?> StatusOfAsync(ActorId actor)
        {
            try
            {
                return await Supervisor(actor).StatusAsync().WaitAsync(ReconcileEvery).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                LogReconcileFailed(_logger, "the supervisor of actor " + actor, e); // being moved: the next tick asks again
                return null;
            }
        }
    }

    private Grains.IActorSupervisorGrain Supervisor(ActorId actor) => _runtime.Grains.GetGrain<Grains.IActorSupervisorGrain>(actor.Value);

    // ------------------------------------------------------------------ actors

    /// <summary>The spec of an actor this process created and that lives (or is being restarted); null otherwise.</summary>
    public ActorSpec? ActorSpecOf(ActorId actor) => _entries.TryGetValue(actor.Value, out var entry) ? entry.Actor : null;

    /// <summary>Watches an actor this process created, on the node it lives on, until it is killed from here.</summary>
    public void TrackActor(ActorSpec spec, string node)
    {
        _entries[spec.ActorId.Value] = new Entry(spec.ActorId.Value, spec.ClassName) { Actor = spec, Node = node };
        EnsureLoop();
    }

    public void ActorKilled(Guid actorId, bool noRestart)
    {
        if (!_entries.TryGetValue(actorId, out var entry) || entry.Actor is not { } spec)
        {
            return;
        }

        if (noRestart || (spec.MaxRestarts >= 0 && spec.Restarts >= spec.MaxRestarts))
        {
            _entries.TryRemove(actorId, out _);
        }
        else
        {
            entry.Actor = spec with { Restarts = spec.Restarts + 1 };
        }
    }

    // ------------------------------------------------------------------ the sweep

    private void EnsureLoop()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _loop = Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        WorkerContext.Leave();
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                FailOverdueParked(); // first, and apart: it must not depend on reaching the cluster
                try
                {
                    await CheckLostNodesAsync().ConfigureAwait(false);
                    _runtime.ForgetSettledSends();
                    if (_runtime.LocalNodeId is null && Environment.TickCount64 - _lastReconcile >= (long)ReconcilePeriod().TotalMilliseconds)
                    {
                        _lastReconcile = Environment.TickCount64;
                        await ReconcileAsync().ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    LogSweepFailed(_logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CheckLostNodesAsync()
    {
        var alive = _runtime.Cluster.Nodes.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
        // A parked call's actor is a suspect even while its node is still in the view: the call failed to reach it.
        var parkedOn = new HashSet<Entry>();
        foreach (var entry in _entries.Values)
        {
            if (entry.Parked && entry.Target is { } target && _entries.TryGetValue(target.Value, out var actor))
            {
                parkedOn.Add(actor);
            }
        }

        // Each suspect with the node and attempt it was judged on: the verdict below is awaited, and meanwhile the
        // failed call's own path may already have sent the task again elsewhere. Declaring the judged attempt lost
        // (Lost/CallLost move on only from that attempt) keeps one node death from being counted once per check.
        var suspects = _entries.Values
            .Select(e => (Entry: e, Node: NodeOf(e), Attempt: e.Attempt))
            .Where(s => s.Node is { } node && (!alive.Contains(node) || parkedOn.Contains(s.Entry)))
            .ToList();
        if (suspects.Count == 0 && !_entries.Values.Any(e => e.Parked || e.AwaitingCluster))
        {
            return;
        }

        // Only membership's verdict counts: a node can miss its reports under load and still run its tasks,
        // and running a task twice is worse than waiting for the verdict.
        var hosts = await _runtime.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).ConfigureAwait(false);
        var dead = suspects.Where(s => !hosts.TryGetValue(SiloAddress.FromParsableString(s.Node!), out var status) || status == SiloStatus.Dead).ToList();
        foreach (var node in dead.Select(s => s.Node!).Distinct(StringComparer.Ordinal))
        {
            // Until the view drops it, work sent again must not go back to it (a batched task has no call of its own
            // to the dead node that fails and marks it, as a task sent as its own call has).
            _runtime.Cluster.MarkUnreachable(node);
        }


        // Actors first, so a lost call is sent again to the actor's new incarnation.
        foreach (var (actor, _, _) in dead.Where(s => s.Entry.Actor is not null))
        {
            await LostActorAsync(actor).ConfigureAwait(false);
        }

        foreach (var (entry, node, attempt) in dead.Where(s => s.Entry.Actor is null))
        {
            if (entry.Spec is not null)
            {
                Lost(entry.Id, attempt, node);
            }
            else if (!entry.Parked)
            {
                CallLost(entry.Id, attempt, node, delivered: true);
            }
        }

        await FollowSupervisorsAsync().ConfigureAwait(false);
        ResendParked(hosts);
    }

    // ------------------------------------------------------------------ lost replies

    /// <summary>How often a driver asks the nodes about its older unanswered work, and how old it must be.</summary>
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromSeconds(5);

    private long _lastReconcile = Environment.TickCount64;
    private long _fastUntil;

    /// <summary>
    /// The client lost a gateway: for a while, look for lost replies every tick instead of every 5 s, so work
    /// whose reply went with it runs again in seconds.
    /// </summary>
    public void GatewayLost()
    {
        Volatile.Write(ref _fastUntil, Environment.TickCount64 + 15_000);
        Volatile.Write(ref _lastReconcile, 0);
    }

    private TimeSpan ReconcilePeriod() => Environment.TickCount64 < Volatile.Read(ref _fastUntil) ? Tick : ReconcileEvery;

    /// <summary>
    /// A driver's calls reach the cluster through a gateway silo, and a reply on its way back through a gateway
    /// that dies is lost with no error: Orleans leaves the call waiting for its response timeout (a year, for
    /// calls that run work). So a driver asks every so often which of its older unanswered tasks and actor calls
    /// their node or actor still holds. Work it does not hold, twice in a row (so a reply on its way is not
    /// taken for lost), finished there and its reply is gone: a task runs again (within MaxRetries), an actor
    /// call is handled as a call that may have run (sent again within MaxTaskRetries, else
    /// ActorUnavailableException) unless the actor kept its reply, which is then delivered.
    /// </summary>
    private async Task ReconcileAsync()
    {
        // Work at least ReconcileEvery old, even when asking often: younger replies may still be on their way.
        var old = Environment.TickCount64 - (long)ReconcileEvery.TotalMilliseconds;
        var waiting = _entries.Values.Where(e => !e.Parked && e.SentAt != 0 && e.SentAt <= old && e.Actor is null && ActorSettled(e)).ToList();
        var tasks = waiting.Where(e => e.Spec is not null && e.Node is not null).GroupBy(e => e.Node!, StringComparer.Ordinal);
        var calls = waiting.Where(e => e.Call is not null && e.Target is not null).GroupBy(e => e.Target!.Value);
        var checks = new List<Task>();
        foreach (var group in tasks)
        {
            checks.Add(CheckAsync(group.ToList(), async ids => new HeldCalls { Held = await _runtime.Node(group.Key).HeldAsync(ids).ConfigureAwait(false), Replies = [] }, group.Key));
        }

        foreach (var group in calls)
        {
            var byId = group.ToDictionary(e => e.Id, e => e.Call! with { Args = [] }); // its order and ids are enough to answer
            checks.Add(CheckAsync(group.ToList(), ids => _runtime.Actor(group.Key).HeldCallsAsync(ids.Select(id => byId[id]).ToArray()), null));
        }

        await Task.WhenAll(checks).ConfigureAwait(false);

        async Task CheckAsync(List<Entry> entries, Func<Guid[], Task<HeldCalls>> ask, string? node)
        {
            HeldCalls answer;
            try
            {
                answer = await ask(entries.Select(e => e.Id).ToArray()).WaitAsync(ReconcileEvery).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogReconcileFailed(_logger, node ?? "an actor", e); // unreachable now: the dead-node pass handles that
                return;
            }

            if (answer.Unknown)
            {
                if (answer.Dead)
                {
                    // Dead: a call to it that has no reply here never gets one. Its creator's calls are decided by the
                    // dead-node pass; a caller that did not create it learns the cause from the actor's supervisor.
                    foreach (var entry in entries.Where(e => e.Call is not null && e.Target is { } t && !(_entries.TryGetValue(t.Value, out var c) && c.Actor is not null)))
                    {
                        CallLost(entry.Id, entry.Attempt, node: null, delivered: true);
                    }
                }

                return; // no live actor there (being restarted, or gone): the dead-node pass decides, not this
            }

            var still = answer.Held.ToHashSet();
            var notArrived = answer.NotArrived.ToHashSet();
            foreach (var entry in entries)
            {
                var created = entry.Target is { } of && _entries.TryGetValue(of.Value, out var creatorEntry) && creatorEntry.Actor is not null;
                if (entry.Call is not null && !created)
                {
                    // An actor created elsewhere: this process does not know which incarnation the call went to,
                    // but one younger than the call's send is a later one; the call was lost with the earlier one.
                    if (!still.Contains(entry.Id) && !answer.Replies.ContainsKey(entry.Id) && _entries.ContainsKey(entry.Id) &&
                        answer.Age < TimeSpan.FromMilliseconds(Environment.TickCount64 - entry.SentAt))
                    {
                        LogCallLostWithIncarnation(_logger, entry.Name, entry.Id);
                        CallLost(entry.Id, entry.Attempt, node: null, delivered: true);
                        continue;
                    }
                }
                else if (entry.Call is not null && answer.Incarnation != entry.Incarnation)
                {
                    continue; // asked another incarnation than the one the call went to: its answer says nothing of it
                }

                if (still.Contains(entry.Id) || !_entries.ContainsKey(entry.Id))
                {
                    entry.Unheld = 0;
                    continue;
                }

                if (entry.Call is { } call && entry.Target is { } target && answer.Replies.TryGetValue(entry.Id, out var reply))
                {
                    // Answered, and the actor kept the answer: deliver it as the reply that was lost.
                    LogReplyRecovered(_logger, entry.Name, entry.Id);
                    _runtime.CompleteCall(target, call, entry.Attempt, reply);
                    continue;
                }

                if (++entry.Unheld < 2)
                {
                    continue;
                }

                LogReplyLost(_logger, entry.Name, entry.Id, node ?? "its actor's node");
                if (entry.Spec is not null)
                {
                    Lost(entry.Id, entry.Attempt, entry.Node, replyLost: true);
                }
                else
                {
                    // A call its actor never saw did not run: sending it again is no retry.
                    CallLost(entry.Id, entry.Attempt, node: null, delivered: !notArrived.Contains(entry.Id));
                }
            }
        }
    }

    /// <summary>
    /// For a call to an actor this process created: whether that actor is settled (placed, and not being
    /// restarted), so asking it about the call neither wakes an empty activation nor reads a wrong incarnation.
    /// </summary>
    private bool ActorSettled(Entry entry) =>
        entry.Target is not { } target || !_entries.TryGetValue(target.Value, out var actor) || actor.Node is not null;

    /// <summary>Where an entry's work is: a task's node, an actor's node, or for a call the node of its actor when this process created it.</summary>
    private string? NodeOf(Entry entry) =>
        entry.Target is { } target
            ? _entries.TryGetValue(target.Value, out var actor) ? actor.Node : null
            : entry.Node;

    /// <summary>
    /// An actor this process created was lost with its node. A restartable one is restarted by its cluster-side
    /// supervisor, not here (so the two never both restart it): this process follows it until the supervisor
    /// says where it went (<see cref="FollowSupervisorsAsync"/>). One without restarts is marked dead, so calls
    /// fail at once.
    /// </summary>
    private async Task LostActorAsync(Entry entry)
    {
        var spec = entry.Actor!;
        var lostOn = entry.Node;
        if (spec.MaxRestarts != 0)
        {
            entry.LostOn = lostOn;
            entry.AwaitingCluster = true;
            entry.Node = null;
            LogActorLost(_logger, spec.ClassName, spec.ActorId, lostOn ?? "?");
            return;
        }

        _entries.TryRemove(entry.Id, out _);
        await _runtime.Actor(spec.ActorId).FailAsync(
            $"Actor {spec.ClassName} ({spec.ActorId}) was lost with node {lostOn} and has no restarts left (MaxRestarts = {spec.MaxRestarts}).").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            // A sweep stuck on a dead silo (Orleans' response timeout) or a restart that waits for room must not
            // hold the process's exit.
            await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
    }

    /// <summary>A task (with its spec, to send again), an actor call, or an actor this process created.</summary>
    private sealed class Entry(Guid id, string name)
    {
        private int _attempt;

        public Guid Id { get; } = id;

        public string Name { get; } = name;

        /// <summary>The node the work was sent to; null until it left (or while it is being sent again).</summary>
        public volatile string? Node;

        public int Attempt => Volatile.Read(ref _attempt);

        public TaskSpec? Spec { get; init; }

        /// <summary>Owned objects the work's arguments hold on to until it is done.</summary>
        public ObjectId[]? Pins { get; init; }

        /// <summary>For an actor call: the call, to send again, and its actor.</summary>
        public ActorCall? Call { get; init; }

        public ActorId? Target { get; init; }

        /// <summary>For an actor this process created: its spec (its restart count as last known).</summary>
        public volatile ActorSpec? Actor;

        /// <summary>For an actor this process created: its node died, and its supervisor is restarting it.</summary>
        public volatile bool AwaitingCluster;

        /// <summary>For an actor this process created: the node it was lost with, while <see cref="AwaitingCluster"/>.</summary>
        public volatile string? LostOn;

        /// <summary>When the work was last sent (<see cref="Environment.TickCount64"/>); 0 while it has not left.</summary>
        public long SentAt;

        /// <summary>Checks in a row that found the work no longer held where it was sent, without a reply here.</summary>
        public int Unheld;

        /// <summary>For a call: waiting for its actor to be reachable again (see <see cref="CallLost"/>).</summary>
        public volatile bool Parked;

        /// <summary>For a call: when it was last parked (<see cref="Environment.TickCount64"/>).</summary>
        public long ParkedAt;

        /// <summary>For a call: the actor's restart count when the call was last sent (<see cref="UnknownIncarnation"/>: not known here).</summary>
        public int Incarnation;

        /// <summary>For a call: a lost send may have reached the actor (so sending it again is a retry).</summary>
        public bool MayHaveRun;

        /// <summary>For a call: retries spent (sends to a new incarnation after one that may have run it).</summary>
        public int Retries;

        /// <summary>Moves from <paramref name="attempt"/> to the next; false when another path already did.</summary>
        public bool TryNextAttempt(int attempt) => Interlocked.CompareExchange(ref _attempt, attempt + 1, attempt) == attempt;

        /// <summary>Moves from <paramref name="attempt"/> to <paramref name="next"/> (past a node's own retries), if still at it.</summary>
        public bool TryNextAttempt(int attempt, int next) => Interlocked.CompareExchange(ref _attempt, next, attempt) == attempt;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} died running '{Name}' ({TaskId}); submitting it again (retry {Attempt}).")]
    private static partial void LogRetry(ILogger logger, string name, Guid taskId, string node, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "'{Name}' ({CallId}) could not reach its actor on node {Node}; it waits until the actor is reachable again.")]
    private static partial void LogCallParked(ILogger logger, string name, Guid callId, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "'{Name}' ({Id}) is no longer held by {Node} and its reply never came (lost with a gateway): handling it as lost.")]
    private static partial void LogReplyLost(ILogger logger, string name, Guid id, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "'{Name}' ({TaskId}) was cancelled by the memory monitor of node {Node}; submitting it again (retry {Attempt}). {Why}")]
    private static partial void LogMemoryRetry(ILogger logger, string name, Guid taskId, string node, int attempt, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending '{Name}' ({CallId}) again to its actor on {Node} ({Incarnation}; retries spent {Retries}).")]
    private static partial void LogCallResent(ILogger logger, string name, Guid callId, string node, string incarnation, int retries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The reply of '{Name}' ({Id}) was lost on its way back (a gateway died); its actor kept it, so it is delivered without running the call again.")]
    private static partial void LogReplyRecovered(ILogger logger, string name, Guid id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "'{Name}' ({Id}) went to an earlier incarnation of its actor, lost with its node: handling it as a lost call.")]
    private static partial void LogCallLostWithIncarnation(ILogger logger, string name, Guid id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Asking {Node} which work it still holds failed; the next round asks again.")]
    private static partial void LogReconcileFailed(ILogger logger, string node, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) was lost with node {Node}; its supervisor in the cluster restarts it if it may.")]
    private static partial void LogActorLost(ILogger logger, string className, ActorId actorId, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Actor {ClassName} ({ActorId}) lives again on node {Node} (restart {Restarts}).")]
    private static partial void LogFollowed(ILogger logger, string className, ActorId actorId, string node, int restarts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The supervisor of actor {ClassName} ({ActorId}) lost its record (it died with node {Node} too): publishing it again from the creator's copy.")]
    private static partial void LogRepublish(ILogger logger, string className, ActorId actorId, string node);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checking in-flight tasks failed; the next tick tries again.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
