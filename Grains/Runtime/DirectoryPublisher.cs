using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// Publishes objects to the directory in batches, one message per shard per flush: a value holding 10,000
/// refs escapes them all at once, and that must not be 10,000 grain calls. One flush runs at a time; what
/// arrives meanwhile goes in the next one. A failed publish is retried (the shard's silo may be moving).
/// </summary>
internal sealed partial class DirectoryPublisher(RayRuntime runtime, ILogger logger)
{
    private readonly ConcurrentQueue<KeyValuePair<ObjectId, ObjectValue>> _queue = new();
    private int _flushing;
    private Task _flush = Task.CompletedTask;

    public void Publish(ObjectId id, ObjectValue value)
    {
        _queue.Enqueue(KeyValuePair.Create(id, value));
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
        {
            _flush = Task.Run(FlushLoopAsync);
        }
    }

    /// <summary>Completes when everything queued so far is published.</summary>
    public async Task FlushAsync()
    {
        while (!_queue.IsEmpty || Volatile.Read(ref _flushing) == 1)
        {
            await _flush.ConfigureAwait(false);
            if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
            {
                _flush = Task.Run(FlushLoopAsync);
            }
        }
    }

    private async Task FlushLoopAsync()
    {
        WorkerContext.Leave();
        while (true)
        {
            var batch = new List<KeyValuePair<ObjectId, ObjectValue>>();
            while (batch.Count < 10_000 && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count > 0)
            {
                try
                {
                    await Task.WhenAll(batch.GroupBy(r => runtime.Directory(r.Key.TaskId)).Select(shard =>
                        TransientRetry.RunAsync(() => shard.Key.PublishManyAsync(shard.ToArray())).AsTask())).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogPublishFailed(logger, batch.Count, e);
                }

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

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Count} objects to the directory failed; refs to them elsewhere will not resolve.")]
    private static partial void LogPublishFailed(ILogger logger, int count, Exception exception);
}
