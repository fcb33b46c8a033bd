using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// The tasks and actor calls this process sent and has no reply for yet, and the actors it created. When
/// the node holding one dies, a task is sent again elsewhere under the same id, up to its <c>MaxRetries</c>,
/// or fails with a NodeDied error; a call is sent again to the actor's next incarnation within the actor's
/// <c>MaxTaskRetries</c>, or fails with <see cref="ActorDiedException"/>; an actor is built again within its
/// <c>MaxRestarts</c>. A loss is noticed two ways: the open call fails (Orleans breaks calls to a silo that
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
        _entries[call.CallId] = new Entry(call.CallId, call.Name) { Call = call, Target = actor, Pins = pins };
        EnsureLoop();
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
    public void Lost(Guid id, int attempt, string? node)
    {
        if (!_entries.TryGetValue(id, out var entry) || entry.Spec is not { } spec || !entry.TryNextAttempt(attempt))
        {
            return;
        }

        if (spec.IsGenerator || (spec.MaxRetries >= 0 && attempt >= spec.MaxRetries))
        {
            Drop(id);
            var why = spec.IsGenerator ? "a streaming generator is not retried, since its values would repeat" : $"MaxRetries = {spec.MaxRetries} retries are used up";
            _runtime.FailReturns(spec, RayRuntime.SystemError(spec.TaskId, spec.Name,
                "RayOrleans.NodeDied", $"Node {node ?? entry.Node} died while running task '{spec.Name}', and {why}."));
            return;
        }

        LogRetry(_logger, spec.Name, spec.TaskId, node ?? entry.Node ?? "?", attempt + 1);
        entry.Node = null;
        _runtime.Dispatch(spec with { Spillbacks = 0 }, attempt + 1);
    }

    /// <summary>Attempt <paramref name="attempt"/> of an actor call was lost with the actor's node: send it again, or fail it.</summary>
    public void CallLost(Guid id, int attempt, string? node)
    {
        if (!_entries.TryGetValue(id, out var entry) || entry.Call is not { } call || entry.Target is not { } target || !entry.TryNextAttempt(attempt))
        {
            return;
        }

        if (_entries.TryGetValue(target.Value, out var actor) && actor.Actor is { } spec && (spec.MaxTaskRetries < 0 || attempt < spec.MaxTaskRetries))
        {
            // The creator restarts the actor (the sweep, or already done); the call waits for the new
            // incarnation at the actor's grain, which Orleans activates again on a live node.
            LogRetry(_logger, call.Name, call.CallId, node ?? actor.Node ?? "?", attempt + 1);
            _runtime.SendCall(target, call, attempt + 1);
            return;
        }

        Drop(id);
        _runtime.FailReturns(call.CallId, 1, false, new RayErrorInfo
        {
            Kind = RayErrorKind.ActorDied, ExceptionType = typeof(ActorDiedException).FullName!, TaskName = call.Name, TaskId = call.CallId, Node = node,
            Message = $"The actor's node{(node is null ? "" : " " + node)} died while '{call.Name}' was queued or running, and the call may not be retried (only the actor's creator, within MaxTaskRetries, sends it again).",
        });
    }

    // ------------------------------------------------------------------ actors

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
                try
                {
                    await CheckLostNodesAsync().ConfigureAwait(false);
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
        var suspects = _entries.Values.Where(e => NodeOf(e) is { } node && !alive.Contains(node)).ToList();
        if (suspects.Count == 0)
        {
            return;
        }

        // Only membership's verdict counts: a node can miss its reports under load and still run its tasks,
        // and running a task twice is worse than waiting for the verdict.
        var hosts = await _runtime.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).ConfigureAwait(false);
        var dead = suspects.Where(e => !hosts.TryGetValue(SiloAddress.FromParsableString(NodeOf(e)!), out var status) || status == SiloStatus.Dead).ToList();

        // Actors first, so a lost call is sent again to the actor's new incarnation.
        foreach (var actor in dead.Where(e => e.Actor is not null))
        {
            await RestartOrFailAsync(actor).ConfigureAwait(false);
        }

        foreach (var entry in dead.Where(e => e.Actor is null))
        {
            var node = NodeOf(entry);
            if (entry.Spec is not null)
            {
                Lost(entry.Id, entry.Attempt, node);
            }
            else
            {
                CallLost(entry.Id, entry.Attempt, node);
            }
        }
    }

    /// <summary>Where an entry's work is: a task's node, an actor's node, or for a call the node of its actor when this process created it.</summary>
    private string? NodeOf(Entry entry) =>
        entry.Target is { } target
            ? _entries.TryGetValue(target.Value, out var actor) ? actor.Node : null
            : entry.Node;

    /// <summary>Builds a lost actor again elsewhere if its MaxRestarts allows, else marks it dead so calls fail at once.</summary>
    private async Task RestartOrFailAsync(Entry entry)
    {
        var spec = entry.Actor!;
        var lostOn = entry.Node;
        if (spec.MaxRestarts < 0 || spec.Restarts < spec.MaxRestarts)
        {
            var again = spec with { Restarts = spec.Restarts + 1 };
            entry.Actor = again;
            entry.Node = null;
            LogActorRestart(_logger, spec.ClassName, spec.ActorId, lostOn ?? "?", again.Restarts);
            try
            {
                await _runtime.CreateActorAsync(again).ConfigureAwait(false);
                return;
            }
            catch (Exception e)
            {
                LogSweepFailed(_logger, e);
            }
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
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
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

        /// <summary>For an actor this process created: its spec, to build it again.</summary>
        public volatile ActorSpec? Actor;

        /// <summary>Moves from <paramref name="attempt"/> to the next; false when another path already did.</summary>
        public bool TryNextAttempt(int attempt) => Interlocked.CompareExchange(ref _attempt, attempt + 1, attempt) == attempt;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} died running '{Name}' ({TaskId}); submitting it again (retry {Attempt}).")]
    private static partial void LogRetry(ILogger logger, string name, Guid taskId, string node, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) was lost with node {Node}; creating it again (restart {Restarts}).")]
    private static partial void LogActorRestart(ILogger logger, string className, ActorId actorId, string node, int restarts);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checking in-flight tasks failed; the next tick tries again.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
