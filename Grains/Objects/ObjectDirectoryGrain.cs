using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Objects;

/// <summary>
/// One shard of the object directory. All methods interleave (the grain runs one at a time on its own
/// scheduler, so the maps need no locks), and a waiter parks on a completion source rather than polling.
/// <para>
/// An object reaches the directory when a ref to it leaves its owner's process. From then on the directory
/// counts its references by holder (processes with live refs, objects whose values contain it, actors
/// built from it) and frees it when the last one goes: every stored copy, and in turn the references its
/// own value holds. The owner's process is one holder among others, so the object outlives the owner when
/// something else still references it.
/// </para>
/// <para>
/// A shard's records live only here, so a shard on a node being drained migrates with them (<see cref="OnDehydrate"/>)
/// before the node goes; it is placed off draining nodes (<see cref="ClusterStatePlacementAttribute"/>).
/// </para>
/// <para>
/// A shard that dies with its node is soft state, as in Ray's ownership design: the owners are the source of
/// truth. When membership declares a node dead, every process re-publishes (<see cref="DirectoryOpKind.Restore"/>)
/// the records of the objects it owns that escaped, and its holds (<see cref="Runtime.RayRuntime"/>'s
/// RepublishAfterNodeLoss). A shard that survived ignores them (a hold counts once per holder); the new activation of
/// a lost shard rebuilds its records from them, and for <see cref="Runtime.RuntimeOptions.DirectoryRebuildWindow"/>
/// after a record is rebuilt it frees nothing (a release may come before another holder re-registered) and ignores
/// releases of holds it never counted (they were counted by the lost shard); at the end, what the holders let go
/// is freed and what no owner published again is lost.
/// </para>
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed partial class ObjectDirectoryGrain(NodeRuntime node, ClusterStateActivations stateGrains, ILogger<ObjectDirectoryGrain> logger)
    : Grain, IObjectDirectoryGrain, IGrainMigrationParticipant
{
    private const string StateKey = "shard";

    private readonly Dictionary<ObjectId, ObjectRecord> _records = new();
    private readonly Dictionary<ObjectId, TaskCompletionSource<ObjectValue>> _waiters = new();

    /// <summary>The last message applied from each sender (a runtime, or another shard), to skip resends.</summary>
    private readonly Dictionary<string, long> _applied = new(StringComparer.Ordinal);
    private long _sent;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext, ReleaseWaiters);
        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext context) =>
        context.TryAddValue(StateKey, new DirectoryShardState { Records = _records, Applied = _applied, Sent = _sent, Freed = [.. _freedOrder] });

    public void OnRehydrate(IRehydrationContext context)
    {
        if (!context.TryGetValue(StateKey, out DirectoryShardState? state) || state is null)
        {
            return;
        }

        foreach (var (id, record) in state.Records)
        {
            _records[id] = record;
        }

        foreach (var (sender, sequence) in state.Applied)
        {
            _applied[sender] = sequence;
        }

        _sent = state.Sent;
        foreach (var id in state.Freed)
        {
            RememberFreed(id);
        }
    }

    /// <summary>
    /// Before migrating: readers parked in <see cref="WaitAsync"/> get "not yet" at once and ask again (reaching the
    /// new activation), instead of holding the migration until their long polls end.
    /// </summary>
    private void ReleaseWaiters()
    {
        foreach (var waiter in _waiters.Values)
        {
            waiter.TrySetCanceled();
        }

        _waiters.Clear();
    }

    public Task PublishAsync(ObjectId id, ObjectValue value)
    {
        Publish(id, value);
        return Task.CompletedTask;
    }

    public Task PublishManyAsync(KeyValuePair<ObjectId, ObjectValue>[] values)
    {
        foreach (var (id, value) in values)
        {
            Publish(id, value);
        }

        return Task.CompletedTask;
    }

    public Task ApplyAsync(string sender, long sequence, DirectoryOp[] ops)
    {
        if (_applied.TryGetValue(sender, out var last) && sequence <= last)
        {
            return Task.CompletedTask; // a resend of a message applied already
        }

        _applied[sender] = sequence;
        foreach (var op in ops)
        {
            Apply(op);
        }

        return Task.CompletedTask;
    }

    public async Task<ObjectValue?> WaitAsync(ObjectId id, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (ReadyValue(id) is { } value)
        {
            return value;
        }

        if (!_waiters.TryGetValue(id, out var waiter))
        {
            waiter = new TaskCompletionSource<ObjectValue>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters[id] = waiter;
        }

        if (_records.TryGetValue(id, out var pending) && (pending.OwnerRef is not null || pending.HandedTo is not null))
        {
            // Its value comes from its owner: while readers wait, make sure the owner is there to send it.
            _ownerCheck ??= this.RegisterGrainTimer(CheckOwnersAsync, new GrainTimerCreationOptions(OwnerCheckInterval, OwnerCheckInterval) { Interleave = true });
        }

        try
        {
            return await waiter.Task.WaitAsync(maxWait, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    public async Task<bool> ReportLostAsync(ObjectId id, string? lostLocation)
    {
        if (!_records.TryGetValue(id, out var record) || record.Freed)
        {
            return false;
        }

        if (record.Value is not { } value || value.Location != lostLocation)
        {
            return true; // being made again already, or made again: readers wait for (or read) the new record
        }

        if (record.OwnerRef is not { } owner)
        {
            record.Value = null;
            Publish(id, LostValue(id, $"its copy on node {lostLocation} cannot be read, and its owner cannot be asked to make it again"));
            return true;
        }

        // Pending again: readers wait for the owner's new record instead of reading the lost one.
        record.Value = null;
        record.Copies = null;
        string? why;
        try
        {
            why = await owner.RebuildAsync(id, lostLocation).WaitAsync(OwnerCallLimit);
        }
        catch (Exception e)
        {
            why = $"its copy on node {lostLocation} cannot be read, and its owner ({record.Owner}) did not answer ({e.GetType().Name}) to make it again";
        }

        if (why is not null)
        {
            Publish(id, LostValue(id, why));
        }

        return true;
    }

    /// <summary>
    /// While readers wait for objects whose owners will send them, checks every few seconds that those owners
    /// live; the objects of an owner that does not answer fail with <see cref="ObjectLostException"/> (Ray's
    /// OwnerDiedError) instead of leaving their readers waiting for ever.
    /// </summary>
    private async Task CheckOwnersAsync()
    {
        var waited = _waiters.Keys
            .Select(id => (Id: id, Record: _records.GetValueOrDefault(id)))
            .Where(w => w.Record is { Value: null, Freed: false } r && (r.OwnerRef is not null || r.HandedTo is not null))
            .GroupBy(w => w.Record!.HandedTo ?? w.Record.Owner ?? "?")
            .ToList();
        if (waited.Count == 0)
        {
            _ownerCheck?.Dispose();
            _ownerCheck = null;
            return;
        }

        await Task.WhenAll(waited.Select(async group =>
        {
            try
            {
                var first = group.First().Record!;
                await (first.HandedTo is { } to ? node.Runtime.Node(to).HandOffAsync([]) : first.OwnerRef!.PingAsync()).WaitAsync(OwnerCallLimit);
            }
            catch (Exception e)
            {
                LogOwnerGone(logger, group.Key, group.Count(), e);
                foreach (var (id, record) in group)
                {
                    if (record!.Value is null)
                    {
                        Publish(id, LostValue(id, record.HandedTo is { } to
                            ? $"its owner exited and handed its task to node {to}, which did not answer ({e.GetType().Name}) before it was made"
                            : $"its owner ({group.Key}) died before it was made (it did not answer: {e.GetType().Name}), and the value would have gone to it"));
                    }
                }
            }
        }));
    }

    private static readonly TimeSpan OwnerCheckInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan OwnerCallLimit = TimeSpan.FromSeconds(10);
    private IGrainTimer? _ownerCheck;

    private static ObjectValue LostValue(ObjectId id, string why) => LostObjects.Value(id, why);

    public Task MovedAsync(ObjectMove[] moves)
    {
        foreach (var move in moves)
        {
            if (!_records.TryGetValue(move.Id, out var record))
            {
                continue; // never escaped: only its owner has a record
            }

            record.Copies?.Remove(move.From);
            if (record.Value is { Location: { } at } value && at == move.From)
            {
                record.Value = ObjectMoves.Relocated(value, move.To);
                record.Copies?.Remove(move.To); // the copy there is the primary now
            }
        }

        return Task.CompletedTask;
    }

    public Task<ObjectValue?> TryGetAsync(ObjectId id) => Task.FromResult(ReadyValue(id));

    public Task<ObjectId[]> FilterReadyAsync(ObjectId[] ids) => Task.FromResult(ids.Where(id => ReadyValue(id) is not null).ToArray());

    public Task<int> CountAsync() => Task.FromResult(_records.Count(r => r.Value.Value is not null));

    public Task<ObjectRecordInfo?> DescribeAsync(ObjectId id) =>
        Task.FromResult(_records.TryGetValue(id, out var record) ? record.Describe(id, node.NodeId, _rebuilding.ContainsKey(id)) : null);

    private ObjectValue? ReadyValue(ObjectId id) =>
        _records.TryGetValue(id, out var record) ? record.Value
        : _freed.Contains(id) ? LostValue(id, LostObjects.Freed) : null;

    private void Apply(in DirectoryOp op)
    {
        switch (op.Kind)
        {
            case DirectoryOpKind.Publish when op.Value is { } value:
                Publish(op.Id, value);
                break;
            case DirectoryOpKind.AddRef:
                AddRef(op.Id, op.Holder ?? "?", op);
                break;
            case DirectoryOpKind.RemoveRef:
                RemoveRef(op.Id, op.Holder ?? "?");
                break;
            case DirectoryOpKind.Reset when op.Node is { } lost && _records.TryGetValue(op.Id, out var reset) && reset.Value?.Location == lost:
                reset.Value = null; // readers wait for the owner's new record
                reset.Copies = null;
                break;
            case DirectoryOpKind.HandedOff when op.Node is { } to && _records.TryGetValue(op.Id, out var handed):
                handed.HandedTo = to;
                handed.OwnerRef = null; // the owner is gone; the node publishes it
                break;
            case DirectoryOpKind.Restore:
                Restore(op.Id, op);
                break;
            case DirectoryOpKind.AddCopy when op.Node is { } copy && _records.TryGetValue(op.Id, out var record) && !record.Freed:
                // Only objects the directory counts have records; an owner's private objects keep their copies' list on the primary's node.
                (record.Copies ??= []).Add(copy);
                break;
        }
    }

    private void Publish(ObjectId id, ObjectValue value)
    {
        if (!_records.TryGetValue(id, out var record))
        {
            record = new ObjectRecord();
            _records[id] = record;
        }
        else if (record.Freed)
        {
            // Every reference went while it was still being made: it is freed as it arrives.
            _records.Remove(id);
            Free(id, value, record.OwnerRef);
            return;
        }

        // Objects are immutable: the first record wins (a cancelled error stays, a late result is dropped).
        if (record.Value is not null)
        {
            return;
        }

        record.Value = value;
        if (_waiters.Remove(id, out var waiter))
        {
            waiter.TrySetResult(value);
        }
    }

    private void AddRef(ObjectId id, string holder, in DirectoryOp op)
    {
        if (!_records.TryGetValue(id, out var record))
        {
            record = new ObjectRecord();
            _records[id] = record;
            if (_freed.Contains(id))
            {
                // Freed already, and now referenced again (a task re-run from lineage whose argument held it):
                // readers get the reason rather than waiting for a value that will not come.
                LogLateReference(logger, id, holder);
                record.Value = LostValue(id, "every reference to it was dropped and it was freed before this reference to it was counted");
            }
        }

        if (record.Freed)
        {
            // A reference arrived after the last one went: a holder added it late. The value (if it comes)
            // is kept from now on; say so, since a copy freed meanwhile cannot come back.
            LogLateReference(logger, id, holder);
            record.Freed = false;
        }

        record.Owner ??= op.Owner;
        record.Creator ??= op.Creator;
        record.OwnerRef ??= op.OwnerRef;
        record.Add(holder, 1);
    }

    private void RemoveRef(ObjectId id, string holder)
    {
        if (!_records.TryGetValue(id, out var record) || record.Freed)
        {
            LogUnknownRelease(logger, id, holder);
            return;
        }

        var rebuilding = _rebuilding.ContainsKey(id);
        if (rebuilding && record.Count(holder) <= 0)
        {
            // Rebuilt after its shard died: this hold was counted there (it was let go before its holder
            // re-published), not here.
            LogUnknownRelease(logger, id, holder);
            return;
        }

        if (record.Add(holder, -1) > 0)
        {
            return;
        }

        if (rebuilding)
        {
            _releasedWhileRebuilding.Add(id);
            return; // another holder may not have re-published yet: decided when the window ends
        }

        if (record.Value is { } value)
        {
            _records.Remove(id);
            Free(id, value, record.OwnerRef);
        }
        else
        {
            record.Freed = true; // freed when its value arrives
        }
    }

    /// <summary>
    /// A process re-publishes what it owns or holds after a node died. A shard that has the record keeps it, and
    /// counts the hold only when its holder has none here (so a surviving shard is unchanged); a shard without it
    /// (this activation replaced one lost with the node) makes the record again and watches it for the window.
    /// </summary>
    private void Restore(ObjectId id, in DirectoryOp op)
    {
        if (!_records.TryGetValue(id, out var record))
        {
            if (_freed.Contains(id))
            {
                return; // freed here, so this shard survived: the holder's release is on its way
            }

            record = new ObjectRecord();
            _records[id] = record;
            _rebuilding[id] = Environment.TickCount64 + (long)node.Runtime.Options.DirectoryRebuildWindow.TotalMilliseconds;
            _rebuildCheck ??= this.RegisterGrainTimer(EndRebuildsAsync, new GrainTimerCreationOptions(RebuildCheckInterval, RebuildCheckInterval) { Interleave = true });
        }

        record.Owner ??= op.Owner;
        record.Creator ??= op.Creator;
        record.OwnerRef ??= op.OwnerRef;
        if (op.Node is { } handedTo && record.Value is null && record.OwnerRef is null)
        {
            // A task whose owner exited, re-published by the node it was handed to: readers wait for that node.
            record.HandedTo ??= handedTo;
        }

        // Zero: not counted here (a negative count is a release that overtook its add, which is still coming).
        if (op.Holder is { } holder && record.Count(holder) == 0)
        {
            if (record.Freed)
            {
                LogLateReference(logger, id, holder);
                record.Freed = false;
            }

            record.Add(holder, 1);
        }
    }

    /// <summary>Rebuilt records (after a lost shard) and when their window ends.</summary>
    private readonly Dictionary<ObjectId, long> _rebuilding = new();
    private readonly HashSet<ObjectId> _releasedWhileRebuilding = new();
    private IGrainTimer? _rebuildCheck;
    private static readonly TimeSpan RebuildCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Ends the window of rebuilt records: every process had time to re-publish, so a record whose last counted hold
    /// was released meanwhile is freed, and one that no owner published again (its owner died with or since the node)
    /// is lost (unless the node its exited owner handed its task to re-published it: that node publishes it). A record
    /// that no re-published hold keeps but that nobody released either stays: a holder may have been too slow to
    /// re-publish (or crashed, and never lets go anyway), and a release counted from now on frees it.
    /// </summary>
    private Task EndRebuildsAsync()
    {
        var now = Environment.TickCount64;
        List<ObjectId>? ended = null;
        foreach (var (id, until) in _rebuilding)
        {
            if (until <= now)
            {
                (ended ??= []).Add(id);
            }
        }

        var lost = 0;
        foreach (var id in ended ?? [])
        {
            _rebuilding.Remove(id);
            var released = _releasedWhileRebuilding.Remove(id);
            if (!_records.TryGetValue(id, out var record) || record.Freed)
            {
                continue;
            }

            if (record.Total <= 0 && released)
            {
                if (record.Value is { } value)
                {
                    _records.Remove(id);
                    Free(id, value, record.OwnerRef);
                }
                else
                {
                    record.Freed = true; // freed when its value arrives
                }
            }
            else if (record.Value is null && record.Owner is null && record.HandedTo is null)
            {
                lost++;
                Publish(id, LostValue(id, $"its directory shard was lost with a node that died, and no owner published it again within {node.Runtime.Options.DirectoryRebuildWindow.TotalSeconds:0.#} s (its owner is gone too)"));
            }
        }

        if (lost > 0)
        {
            LogRebuildLost(logger, lost);
        }

        if (_rebuilding.Count == 0)
        {
            _rebuildCheck?.Dispose();
            _rebuildCheck = null;
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The most recent freed ids (bounded), so a wait or a late reference for one gets "freed" at once instead
    /// of waiting for a record that will not come.
    /// </summary>
    private readonly HashSet<ObjectId> _freed = new();
    private readonly Queue<ObjectId> _freedOrder = new();
    private const int FreedMemory = 100_000;

    private void RememberFreed(ObjectId id)
    {
        if (_freed.Add(id))
        {
            _freedOrder.Enqueue(id);
            if (_freedOrder.Count > FreedMemory)
            {
                _freed.Remove(_freedOrder.Dequeue());
            }
        }
    }

    /// <summary>Frees an object no reference holds any more: its stored copy, and the references its value holds.</summary>
    private void Free(ObjectId id, ObjectValue value, IObjectOwner? owner)
    {
        RememberFreed(id);
        if (_waiters.Remove(id, out var waiter))
        {
            waiter.TrySetResult(LostObjects.Value(id, LostObjects.Freed, "(freed object)"));
        }

        if (owner is not null)
        {
            // The owner kept the object's lineage for the borrowers; it can let go of it now.
            _ = owner.ObjectsFreedAsync([id]).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }

        if (value.Location is { } location)
        {
            // No retry: a node that is gone took the copy with it.
            _ = node.Runtime.Node(location).FreeObjectsAsync([id]).ContinueWith(
                t => LogFreeFailed(logger, id, location, t.Exception!.GetBaseException()), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        if (value.Refs is not { Length: > 0 } contained)
        {
            return;
        }

        var holder = ObjectHolders.Object(id);
        foreach (var shard in contained.GroupBy(r => node.Runtime.Directory(r.TaskId)))
        {
            var ops = shard.Select(r => new DirectoryOp { Kind = DirectoryOpKind.RemoveRef, Id = r, Holder = holder }).ToArray();
            if (shard.Key.GetGrainId() == this.GetGrainId())
            {
                foreach (var op in ops)
                {
                    Apply(op);
                }
            }
            else
            {
                // Numbered once, so a retry after a timeout is not applied twice.
                var sequence = ++_sent;
                var sender = "directory:" + this.GetPrimaryKeyLong();
                Send(() => shard.Key.ApplyAsync(sender, sequence, ops), $"releasing the {ops.Length} refs held by {id}");
            }
        }
    }

    private void Send(Func<Task> send, string what) =>
        _ = Runtime.TransientRetry.RunAsync(send).AsTask().ContinueWith(
            t => LogSendFailed(logger, what, t.Exception!.GetBaseException()), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Owner {Owner} did not answer; its {Count} objects that readers wait for are lost.")]
    private static partial void LogOwnerGone(ILogger logger, string owner, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A reference to {Id} from {Holder} arrived after its last reference went; a copy freed meanwhile cannot be read.")]
    private static partial void LogLateReference(ILogger logger, ObjectId id, string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} objects rebuilt after their shard was lost were not published again by an owner; their readers get ObjectLostException.")]
    private static partial void LogRebuildLost(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A release of {Id} from {Holder} found no live record.")]
    private static partial void LogUnknownRelease(ILogger logger, ObjectId id, string holder);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Freeing {Id} on node {Node} failed (the node is gone, and the copy with it).")]
    private static partial void LogFreeFailed(ILogger logger, ObjectId id, string node, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The directory failed {What}.")]
    private static partial void LogSendFailed(ILogger logger, string what, Exception exception);
}

/// <summary>What a directory shard takes along when it migrates: its records, the resend guards and the recent frees.</summary>
[GenerateSerializer, Alias("ray.DirectoryShardState")]
internal sealed class DirectoryShardState
{
    [Id(0)]
    public Dictionary<ObjectId, ObjectRecord> Records { get; set; } = new();

    [Id(1)]
    public Dictionary<string, long> Applied { get; set; } = new();

    [Id(2)]
    public long Sent { get; set; }

    /// <summary>The recently freed ids, oldest first.</summary>
    [Id(3)]
    public ObjectId[] Freed { get; set; } = [];
}
