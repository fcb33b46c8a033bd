using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Objects.Store;

namespace RayOrleans.Node;

/// <summary>
/// Draining this node before the autoscaler removes it (Ray's DrainNode). The first <see cref="Drain"/> marks the
/// node draining: its report says so, the views leave it out of placement, and the scheduler passes work that still
/// arrives on to another node. Each later call (the autoscaler asks every round) reports progress and, once nothing
/// runs or waits here, empties the store: a secondary copy (pulled from a primary elsewhere) is dropped; a primary is
/// moved (another node pulls it, or promotes the copy it has, and takes over its copies), the directory and every
/// owner that can be reached learn the new node, and only then is the copy here freed. An object no node can take
/// fails the drain (the autoscaler keeps the node). The activations here of grains that keep cluster state in memory
/// (<see cref="ClusterStateActivations"/>) migrate, with their state, to live nodes that are not draining; the node
/// is not drained while one is left. The node counts as drained only after
/// <see cref="SettleTime"/>, so that every view has seen the draining flag and nothing more is sent here.
/// </summary>
internal sealed partial class NodeDrain(
    NodeRuntime node, LocalScheduler scheduler, NodeObjectStore store, NodeReporter reporter, ClusterStateActivations stateGrains, ILogger<NodeDrain> logger)
{
    /// <summary>
    /// How long a drain lasts at least: a node reports every second and views refresh every half second, so after
    /// this every submitter has seen the flag and stopped choosing the node.
    /// </summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly Dictionary<ObjectId, string> _movedTo = new();
    private long _started;
    private string? _failure;
    private int _moved;
    private int _dropped;
    private Task? _pass;
    private bool _stateLogged;

    /// <summary>Starts the drain, or continues it; returns where it stands.</summary>
    public DrainStatus Drain()
    {
        lock (_gate)
        {
            if (!node.Draining)
            {
                node.Draining = true;
                _started = Environment.TickCount64;
                _failure = null;
                _moved = _dropped = 0;
                _stateLogged = false;
                reporter.ReportSoon(); // placement should not wait a second to leave this node out
                LogDraining(logger, node.NodeId, store.Count);
            }

            if (_failure is { } failure)
            {
                return new DrainStatus { Failure = failure, Moved = _moved, Dropped = _dropped };
            }

            var waiting = new List<string>();
            int running = scheduler.Running, queued = scheduler.Queued, forwarding = scheduler.Forwarding, actors = scheduler.Actors;
            Count(waiting, running, "task running", "tasks running");
            Count(waiting, queued, "task queued", "tasks queued");
            Count(waiting, forwarding, "task passed on whose reply it relays", "tasks passed on whose replies it relays");
            Count(waiting, actors, "actor", "actors");
            var total = scheduler.Resources.Total;
            var available = scheduler.Resources.Available;
            if (!total.Amounts.All(t => available[t.Key] + 1e-9 >= t.Value))
            {
                waiting.Add($"resources held ({total} in all, {available} free)");
            }

            var busy = waiting.Count > 0;
            var objects = store.Count;
            Count(waiting, objects, "object to move or drop", "objects to move or drop");
            if (!busy && objects > 0 && _pass is not { IsCompleted: false })
            {
                // Only once nothing runs: a running task may still make objects, or read the ones here.
                _pass = Task.Run(EmptyStoreAsync);
            }

            // Cluster-state grains move from the first poll on (nothing here waits for them), and are asked again on
            // every poll: one placed here by a view that had not seen the drain yet is caught by the next.
            if (stateGrains.Count > 0)
            {
                var targets = node.Cluster.Reported.Where(n => n.NodeId != node.NodeId && !n.Draining).Select(n => SiloAddress.FromParsableString(n.NodeId)).ToList();
                if (targets.Count == 0)
                {
                    waiting.Add("cluster-state grains to move, and no live node that is not draining to take them");
                }
                else
                {
                    var asked = stateGrains.MigrateAll(targets);
                    Count(waiting, asked, "cluster-state grain to move", "cluster-state grains to move");
                    if (!_stateLogged)
                    {
                        _stateLogged = true;
                        LogMovingGrains(logger, node.NodeId, asked);
                    }
                }
            }

            var settled = Environment.TickCount64 - _started >= (long)SettleTime.TotalMilliseconds;
            if (!settled && waiting.Count == 0)
            {
                waiting.Add("settling (views still to see the drain)");
            }

            return new DrainStatus { Drained = waiting.Count == 0, Waiting = string.Join("; ", waiting), Moved = _moved, Dropped = _dropped };
        }
    }

    /// <summary>Ends the drain: the node takes work again, with the objects it still has.</summary>
    public void Cancel()
    {
        lock (_gate)
        {
            if (!node.Draining)
            {
                return;
            }

            node.Draining = false;
            _failure = null;
            reporter.ReportSoon();
            LogCancelled(logger, node.NodeId);
        }
    }

    /// <summary>Where an object moved off this node went (a free that arrives late is passed there); null when it did not move.</summary>
    public string? MovedTo(ObjectId id)
    {
        lock (_gate)
        {
            return _movedTo.GetValueOrDefault(id);
        }
    }

    /// <summary>
    /// On the node taking an object over from a draining one: pulls it in chunks (the transfer reads use), or promotes
    /// the copy it already has, then serves and frees it with its copies.
    /// </summary>
    public async Task AdoptAsync(ObjectId id, long size, string from, string[] copies)
    {
        if (node.Draining)
        {
            throw new InvalidOperationException($"node {node.NodeId} is draining too");
        }

        if (store.TryAcquire(id, out var have))
        {
            // A copy pulled earlier becomes the primary.
            have.PulledFrom = null;
            have.Primary = null;
            store.Release(have);
        }
        else
        {
            var stored = store.Create(id, size); // ObjectStoreFullException when there is no room, even after spilling
            try
            {
                await node.Runtime.PullChunksAsync(node.Runtime.Node(from), id, size, (at, part) => part.CopyTo(stored.GetSpan()[(int)at..]), CancellationToken.None)
                    .ConfigureAwait(false);
                store.Seal(stored);
            }
            catch
            {
                store.Remove(id);
                throw;
            }
        }

        node.Copies.Adopt(id, node.NodeId, copies.Where(c => c != node.NodeId).ToArray());
    }

    private async Task EmptyStoreAsync()
    {
        try
        {
            var moves = new List<ObjectMove>();
            var dropped = new List<ObjectMove>();
            foreach (var stored in store.Snapshot())
            {
                if (!node.Draining)
                {
                    return; // cancelled: keep the rest
                }

                if (!stored.Sealed)
                {
                    continue; // still being written: the next pass sees it sealed
                }

                if (stored.PulledFrom is not null)
                {
                    // A secondary copy: the primary lives on (copies are freed with it), so this one simply goes.
                    dropped.Add(new ObjectMove { Id = stored.Id, From = node.NodeId, To = stored.Primary ?? stored.PulledFrom });
                    store.Remove(stored.Id);
                    continue;
                }

                if (await MoveAsync(stored).ConfigureAwait(false) is not { } to)
                {
                    return; // the drain failed (recorded)
                }

                moves.Add(new ObjectMove { Id = stored.Id, From = node.NodeId, To = to });
            }

            await AnnounceAsync(moves, dropped).ConfigureAwait(false);
            foreach (var move in moves)
            {
                lock (_gate)
                {
                    _movedTo[move.Id] = move.To;
                    _moved++;
                }

                // Its copies are the new primary's now: forgotten here first, so the free below does not free them.
                node.Copies.Forget(move.Id, node.NodeId);
                if (store.Contains(move.Id))
                {
                    store.Remove(move.Id);
                }
                else
                {
                    // Its owner freed it while it moved (the free came here): free the new copy too.
                    Forget(node.Runtime.Node(move.To).FreeObjectsAsync([move.Id]));
                }
            }

            lock (_gate)
            {
                _dropped += dropped.Count;
            }

            if (moves.Count + dropped.Count > 0)
            {
                LogEmptied(logger, node.NodeId, moves.Count, dropped.Count);
            }
        }
        catch (Exception e)
        {
            Fail($"emptying its store failed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Has another node take over a primary copy; its node, or null after recording why none could.</summary>
    private async Task<string?> MoveAsync(StoredObject stored)
    {
        var id = stored.Id;
        var self = node.NodeId;
        var live = node.Cluster.Reported.Where(n => n.NodeId != self && !n.Draining).ToList();
        var copies = node.Copies.CopiesOf(id, self);
        var liveIds = live.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
        // A node with a copy first (nothing to send), then the ones with the most room.
        var candidates = copies.Where(liveIds.Contains)
            .Concat(live.Where(n => n.ObjectStoreCapacity - n.ObjectStoreUsed >= stored.Length).OrderByDescending(n => n.ObjectStoreCapacity - n.ObjectStoreUsed).Select(n => n.NodeId))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var errors = new List<string>();
        foreach (var target in candidates)
        {
            try
            {
                await node.Runtime.Node(target).AdoptObjectAsync(id, stored.Length, self, copies).ConfigureAwait(false);
                return target;
            }
            catch (Exception e)
            {
                errors.Add($"node {target}: {e.GetType().Name}: {e.Message}");
            }
        }

        Fail(candidates.Count == 0
            ? $"object {id} ({stored.Length:N0} bytes) could not be moved: no other live node has room for it"
            : $"object {id} ({stored.Length:N0} bytes) could not be moved: {string.Join("; ", errors)}", null);
        return null;
    }

    /// <summary>
    /// Tells the directory (for shared objects), this node's runtime and every other runtime that may own the moved
    /// objects (the nodes' runtimes, the running drivers) where they went. An owner that cannot be reached is gone,
    /// and its records with it.
    /// </summary>
    private async Task AnnounceAsync(List<ObjectMove> moves, List<ObjectMove> dropped)
    {
        var all = moves.Concat(dropped).ToArray();
        if (all.Length == 0)
        {
            return;
        }

        var runtime = node.Runtime;
        var calls = new List<Task>();
        foreach (var shard in all.GroupBy(m => runtime.Directory(m.Id.TaskId)))
        {
            calls.Add(Runtime.TransientRetry.RunAsync(() => shard.Key.MovedAsync([.. shard])).AsTask());
        }

        if (moves.Count > 0)
        {
            var moved = moves.ToArray();
            foreach (var move in moved)
            {
                runtime.Owned.Relocate(move.Id, move.From, move.To);
            }

            foreach (var other in node.Cluster.Reported.Where(n => n.NodeId != node.NodeId))
            {
                calls.Add(runtime.Node(other.NodeId).ObjectsMovedAsync(moved));
            }

            calls.Add(TellDriversAsync(runtime.Grains, moved));
        }

        try
        {
            await Task.WhenAll(calls).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogAnnounceFailed(logger, e); // a node or driver that went took its records along
        }
    }

    private static async Task TellDriversAsync(IGrainFactory grains, ObjectMove[] moves)
    {
        var drivers = await grains.GetGrain<IJobRegistryGrain>(0).ListAsync().ConfigureAwait(false);
        await Task.WhenAll(drivers.Where(d => d is { Status: "RUNNING", Owner: not null }).Select(async d =>
        {
            try
            {
                await d.Owner!.ObjectsMovedAsync(moves).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A driver that does not answer has exited (or will be declared lost): nothing of it to update.
            }
        })).ConfigureAwait(false);
    }

    private void Fail(string why, Exception? e)
    {
        lock (_gate)
        {
            _failure ??= why;
        }

        LogFailed(logger, node.NodeId, why, e);
    }

    private static void Count(List<string> waiting, int count, string one, string many)
    {
        if (count > 0)
        {
            waiting.Add(count == 1 ? $"1 {one}" : $"{count} {many}");
        }
    }

    private static void Forget(Task send) => send.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} is draining ({Objects} objects in its store).")]
    private static partial void LogDraining(ILogger logger, string node, int objects);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} is migrating the {Count} cluster-state grain activations it hosts to other nodes.")]
    private static partial void LogMovingGrains(ILogger logger, string node, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node}'s drain was cancelled: it takes work again.")]
    private static partial void LogCancelled(ILogger logger, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} moved {Moved} primary copies to other nodes and dropped {Dropped} secondary copies.")]
    private static partial void LogEmptied(ILogger logger, string node, int moved, int dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node}'s drain failed: {Why}")]
    private static partial void LogFailed(ILogger logger, string node, string why, Exception? exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Telling owners where objects moved failed for some.")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception exception);
}
