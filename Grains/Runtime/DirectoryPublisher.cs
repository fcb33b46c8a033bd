using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// Sends this runtime's changes to the directory (publishes, and references added and removed) in batches,
/// one message per shard per flush: a value holding 10,000 refs escapes them all at once, and that must not
/// be 10,000 grain calls. One flush runs at a time and keeps the order of the queue, so a reference this
/// process adds always reaches its shard before this process removes it. A failed send is retried (the
/// shard's silo may be moving).
/// </summary>
internal sealed partial class DirectoryPublisher(RayRuntime runtime, ILogger logger)
{
    private readonly ConcurrentQueue<DirectoryOp> _queue = new();
    private int _flushing;

    /// <summary>Records that an object is ready (or failed).</summary>
    public void Publish(ObjectId id, ObjectValue value) => Enqueue(new DirectoryOp { Kind = DirectoryOpKind.Publish, Id = id, Value = value });

    /// <summary>Counts one more reference to <paramref name="id"/> from <paramref name="holder"/>; <paramref name="owner"/> names the owner on its own first one.</summary>
    public void AddRef(ObjectId id, string holder, string? owner, string? creator = null, Grains.IObjectOwner? ownerRef = null) =>
        Enqueue(new DirectoryOp { Kind = DirectoryOpKind.AddRef, Id = id, Holder = holder, Owner = owner, Creator = creator, OwnerRef = ownerRef });

    /// <summary>
    /// After a node died: re-registers <paramref name="holder"/>'s hold on <paramref name="id"/> (counted once however
    /// often it comes), and, from the owner, who owns it; a shard lost with the node rebuilds its record from these.
    /// <paramref name="handedTo"/>: the node a task making <paramref name="id"/> was handed to by its exited owner (it
    /// publishes the value), from that node.
    /// </summary>
    public void Restore(ObjectId id, string? holder, string? owner = null, string? creator = null, Grains.IObjectOwner? ownerRef = null, string? handedTo = null) =>
        Enqueue(new DirectoryOp { Kind = DirectoryOpKind.Restore, Id = id, Holder = holder, Owner = owner, Creator = creator, OwnerRef = ownerRef, Node = handedTo });

    /// <summary>Removes one reference to <paramref name="id"/> from <paramref name="holder"/>.</summary>
    public void RemoveRef(ObjectId id, string holder) => Enqueue(new DirectoryOp { Kind = DirectoryOpKind.RemoveRef, Id = id, Holder = holder });

    /// <summary>Records that <paramref name="node"/> holds a copy of <paramref name="id"/> pulled from another node.</summary>
    public void AddCopy(ObjectId id, string node) => Enqueue(new DirectoryOp { Kind = DirectoryOpKind.AddCopy, Id = id, Node = node });

    /// <summary>The owner exited and handed the task making <paramref name="id"/> to <paramref name="node"/>, which publishes it.</summary>
    public void HandedOff(ObjectId id, string node) => Enqueue(new DirectoryOp { Kind = DirectoryOpKind.HandedOff, Id = id, Node = node });

    /// <summary>The owner is making <paramref name="id"/> again: its record, which points at the lost copy on <paramref name="lostNode"/>, becomes pending.</summary>
    public void Reset(ObjectId id, string lostNode) => Enqueue(new DirectoryOp { Kind = DirectoryOpKind.Reset, Id = id, Node = lostNode });

    private void Enqueue(DirectoryOp op)
    {
        Interlocked.Increment(ref _enqueued);
        _queue.Enqueue(op);
        EnsureFlushing();
    }

    private void EnsureFlushing()
    {
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
        {
            _ = Task.Run(FlushLoopAsync);
        }
    }

    private long _enqueued;
    private long _sequence;
    private long _sent;
    private TaskCompletionSource _batchSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when everything queued before the call has been sent (later changes from other threads do
    /// not hold it up).
    /// </summary>
    public async Task FlushAsync()
    {
        var target = Interlocked.Read(ref _enqueued);
        while (Interlocked.Read(ref _sent) < target)
        {
            var sent = Volatile.Read(ref _batchSent).Task;
            if (Interlocked.Read(ref _sent) >= target)
            {
                break;
            }

            EnsureFlushing();
            await sent.ConfigureAwait(false);
        }
    }

    private async Task FlushLoopAsync()
    {
        WorkerContext.Leave();
        while (true)
        {
            var batch = new List<DirectoryOp>();
            while (batch.Count < 10_000 && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count > 0)
            {
                try
                {
                    // GroupBy keeps the queue's order within each shard; batches go one after another, so each shard
                    // sees this runtime's numbers rise, and a retry of the same message is recognised there.
                    var sequence = ++_sequence;
                    await Task.WhenAll(batch.GroupBy(r => runtime.Directory(r.Id.TaskId)).Select(shard =>
                        TransientRetry.RunAsync(() => shard.Key.ApplyAsync(runtime.Id, sequence, shard.ToArray())).AsTask())).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogPublishFailed(logger, batch.Count, e);
                }

                Interlocked.Add(ref _sent, batch.Count);
                Interlocked.Exchange(ref _batchSent, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                continue;
            }

            Volatile.Write(ref _flushing, 0);
            // Something may have been queued after the last dequeue and before the flag cleared.
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending {Count} changes to the directory failed; refs to those objects elsewhere may not resolve, or the objects may be kept.")]
    private static partial void LogPublishFailed(ILogger logger, int count, Exception exception);
}
