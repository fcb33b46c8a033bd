using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// The tasks and actor calls this process sent and has not yet seen finish. When the node holding one dies
/// (as Orleans membership declares it, not merely late with its reports), a task is sent again elsewhere
/// under the same id, up to its <c>MaxRetries</c>, or fails with a NodeDied error; an actor call fails with
/// <see cref="ActorDiedException"/> instead of leaving its caller waiting. Finished entries are dropped in
/// batches. A node that passes a task on (spillback) tracks it the same way.
/// </summary>
internal sealed partial class InFlightTasks : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private const int CleanupEveryTicks = 5;

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

    public void Track(TaskSpec spec, string node)
    {
        _entries.AddOrUpdate(spec.TaskId, _ => new Entry(spec.TaskId, spec.Name, node, spec), (_, e) => e with { Node = node });
        EnsureLoop();
    }

    /// <summary>Tracks an actor call; its node is known once the actor acknowledges it (<see cref="SetNode"/>).</summary>
    public void TrackActorCall(ActorId actor, ActorCall call)
    {
        _entries[call.CallId] = new Entry(call.CallId, call.Name, null, null) { Call = call, Target = actor };
        EnsureLoop();
    }

    /// <summary>Watches an actor this process created, on the node it lives on, until it is killed from here.</summary>
    public void TrackActor(ActorSpec spec, string node)
    {
        _entries[spec.ActorId.Value] = new Entry(spec.ActorId.Value, spec.ClassName, node, null) { Actor = spec };
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
            _entries[actorId] = entry with { Actor = spec with { Restarts = spec.Restarts + 1 } };
        }
    }

    public void SetNode(Guid id, string node)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            _entries.TryUpdate(id, entry with { Node = node }, entry);
        }
    }

    /// <summary>This process saw the object ready: if it is the result of a tracked task or call, that one is finished.</summary>
    public void Observed(ObjectId id)
    {
        if (_entries.TryGetValue(id.TaskId, out var entry) && entry.Actor is null && FirstResult(entry) == id)
        {
            _entries.TryRemove(id.TaskId, out _);
        }
    }

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
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await CheckLostNodesAsync().ConfigureAwait(false);
                    if (++ticks % CleanupEveryTicks == 0)
                    {
                        await DropFinishedAsync(_entries.Values.Where(e => e.Actor is null).ToList()).ConfigureAwait(false);
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
        var suspects = _entries.Values.Where(e => e.Node is not null && !alive.Contains(e.Node)).ToList();
        if (suspects.Count == 0)
        {
            return;
        }

        // Only membership's verdict counts: a node can miss its reports under load and still run its tasks,
        // and running a task twice is worse than waiting for the verdict.
        var hosts = await _runtime.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).ConfigureAwait(false);
        var dead = suspects.Where(e => !hosts.TryGetValue(SiloAddress.FromParsableString(e.Node!), out var status) || status == SiloStatus.Dead).ToList();
        if (dead.Count == 0)
        {
            return;
        }

        // Actors first, so a lost call can be sent again to the actor's new incarnation.
        foreach (var actor in dead.Where(e => e.Actor is not null))
        {
            await RestartOrFailAsync(actor).ConfigureAwait(false);
        }

        var unfinished = await DropFinishedAsync(dead.Where(e => e.Actor is null).ToList()).ConfigureAwait(false);
        var active = hosts.Where(h => h.Value == SiloStatus.Active).Select(h => h.Key.ToParsableString()).ToList();
        unfinished = await DropHeldElsewhereAsync(unfinished, active).ConfigureAwait(false);
        foreach (var entry in unfinished)
        {
            if (entry.Call is { } call && entry.Target is { } target && CanRetryCall(target, entry))
            {
                _entries[entry.Id] = entry with { Node = null, Attempts = entry.Attempts + 1 };
                LogRetry(_logger, entry.Name, entry.Id, entry.Node!, entry.Attempts + 1);
                _runtime.SubmitActorCall(target, call, retry: true);
                continue;
            }

            if (entry.Spec is not { } spec)
            {
                _entries.TryRemove(entry.Id, out _);
                await _runtime.PublishErrorAsync(entry.Id, 1, false, new RayErrorInfo
                {
                    Kind = RayErrorKind.ActorDied, ExceptionType = typeof(ActorDiedException).FullName!, TaskName = entry.Name, TaskId = entry.Id, Node = entry.Node,
                    Message = $"The actor's node {entry.Node} died while '{entry.Name}' was queued or running; actors are not restarted after a node failure yet.",
                }).ConfigureAwait(false);
                continue;
            }

            if (spec.IsGenerator || (spec.MaxRetries >= 0 && entry.Attempts >= spec.MaxRetries))
            {
                _entries.TryRemove(spec.TaskId, out _);
                var why = spec.IsGenerator ? "a streaming generator is not retried, since its values would repeat" : $"MaxRetries = {spec.MaxRetries} retries are used up";
                await _runtime.PublishErrorAsync(spec.TaskId, spec.NumReturns, spec.IsGenerator, RayRuntime.SystemError(spec.TaskId, spec.Name,
                    "RayOrleans.NodeDied", $"Node {entry.Node} died while running task '{spec.Name}', and {why}.")).ConfigureAwait(false);
                continue;
            }

            _entries[spec.TaskId] = entry with { Attempts = entry.Attempts + 1 };
            LogRetry(_logger, spec.Name, spec.TaskId, entry.Node!, entry.Attempts + 1);
            _runtime.SubmitTask(spec with { Spillbacks = 0 }, retry: true);
        }
    }

    private bool CanRetryCall(ActorId target, Entry call) =>
        _entries.TryGetValue(target.Value, out var actor) && actor.Actor is { } spec &&
        (spec.MaxTaskRetries < 0 || call.Attempts < spec.MaxTaskRetries);

    /// <summary>Builds a lost actor again elsewhere if its MaxRestarts allows, else marks it dead so calls fail at once.</summary>
    private async Task RestartOrFailAsync(Entry entry)
    {
        var spec = entry.Actor!;
        if (spec.MaxRestarts < 0 || spec.Restarts < spec.MaxRestarts)
        {
            var again = spec with { Restarts = spec.Restarts + 1 };
            _entries[entry.Id] = entry with { Node = null, Actor = again };
            LogActorRestart(_logger, spec.ClassName, spec.ActorId, entry.Node!, again.Restarts);
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
            $"Actor {spec.ClassName} ({spec.ActorId}) was lost with node {entry.Node} and has no restarts left (MaxRestarts = {spec.MaxRestarts}).").ConfigureAwait(false);
    }

    /// <summary>Drops the entries whose task has published its result; returns the rest.</summary>
    private async Task<List<Entry>> DropFinishedAsync(List<Entry> entries)
    {
        var unfinished = new List<Entry>();
        foreach (var shard in entries.GroupBy(e => _runtime.Directory(e.Id)))
        {
            var ids = shard.Select(FirstResult).ToArray();
            var ready = (await shard.Key.FilterReadyAsync(ids).ConfigureAwait(false)).ToHashSet();
            foreach (var entry in shard)
            {
                if (ready.Contains(FirstResult(entry)))
                {
                    _entries.TryRemove(entry.Id, out _);
                }
                else
                {
                    unfinished.Add(entry);
                }
            }
        }

        return unfinished;
    }

    /// <summary>
    /// Drops the entries whose task a live node holds: the dead node had passed it on (spillback) before it
    /// died, so it is not lost and must not run twice. The entry follows the task to its node.
    /// </summary>
    private async Task<List<Entry>> DropHeldElsewhereAsync(List<Entry> entries, List<string> live)
    {
        if (entries.Count == 0)
        {
            return entries;
        }

        // The live nodes come from membership, not the cluster view: the view can be empty for a moment
        // after a node death (its grain moving), and asking no one would run every task twice.
        var ids = entries.Where(e => e.Spec is not null).Select(e => e.Id).ToArray();
        if (ids.Length == 0)
        {
            return entries;
        }

        var held = await Task.WhenAll(live.Select(async node =>
        {
            try
            {
                return (node, ids: await _runtime.Node(node).FilterKnownTasksAsync(ids).ConfigureAwait(false));
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return (node, ids: Array.Empty<Guid>());
            }
        })).ConfigureAwait(false);
        var holder = new Dictionary<Guid, string>();
        foreach (var (node, found) in held)
        {
            foreach (var id in found)
            {
                holder[id] = node;
            }
        }

        var lost = new List<Entry>();
        foreach (var entry in entries)
        {
            if (entry.Spec is not null && holder.TryGetValue(entry.Id, out var node))
            {
                _entries[entry.Id] = entry with { Node = node };
            }
            else
            {
                lost.Add(entry);
            }
        }

        return lost;
    }

    private static ObjectId FirstResult(Entry entry) => new(entry.Id, entry.Spec is { IsGenerator: true } ? 0 : 1);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>A task (with its spec, to send again) or an actor call (no spec); Node is null until known.</summary>
    private sealed record Entry(Guid Id, string Name, string? Node, TaskSpec? Spec, int Attempts = 0)
    {
        /// <summary>For an actor call: the call, to send again, and its actor.</summary>
        public ActorCall? Call { get; init; }

        public ActorId? Target { get; init; }

        /// <summary>For an actor this process created: its spec, to build it again.</summary>
        public ActorSpec? Actor { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} died running '{Name}' ({TaskId}); submitting it again (retry {Attempt}).")]
    private static partial void LogRetry(ILogger logger, string name, Guid taskId, string node, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) was lost with node {Node}; creating it again (restart {Restarts}).")]
    private static partial void LogActorRestart(ILogger logger, string className, ActorId actorId, string node, int restarts);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checking in-flight tasks failed; the next tick tries again.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
