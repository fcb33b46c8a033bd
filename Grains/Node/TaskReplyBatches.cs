using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>
/// The replies of tasks an owner submitted in batches (<see cref="INodeGrain.SubmitAsync"/>), sent back to it in
/// batches: a reply ready while a batch to the same owner is being sent waits for the next one, so replies that
/// finish together share one message, and a lone reply leaves at once (one hop to the thread pool).
/// </summary>
internal sealed partial class TaskReplyBatches(ILogger<TaskReplyBatches> logger)
{
    private readonly ILogger _logger = logger;

    /// <summary>At most this many replies in one message.</summary>
    private const int MaxReplies = 1024;

    /// <summary>At most about this many inline bytes in one message (far under Orleans' message limit).</summary>
    private const long MaxBytes = 4 << 20;

    private readonly ConcurrentDictionary<GrainId, OwnerQueue> _owners = new();

    /// <summary>Sends <paramref name="spec"/>'s reply to <paramref name="owner"/> once <paramref name="reply"/> completes.</summary>
    public void Track(IObjectOwner owner, TaskSpec spec, Task<ObjectValue[]> reply)
    {
        if (reply.IsCompleted)
        {
            Add(owner, ReplyOf(spec, reply));
            return;
        }

        reply.ContinueWith(
            static (done, state) =>
            {
                var (batches, owner, spec) = ((TaskReplyBatches, IObjectOwner, TaskSpec))state!;
                batches.Add(owner, ReplyOf(spec, done));
            },
            (this, owner, spec), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static TaskReply ReplyOf(TaskSpec spec, Task<ObjectValue[]> done) => done.IsCompletedSuccessfully
        ? new TaskReply { TaskId = spec.TaskId, Attempt = spec.Attempt, Values = done.Result }
        : new TaskReply { TaskId = spec.TaskId, Attempt = spec.Attempt, Failure = done.Exception?.GetBaseException() ?? new TaskCanceledException() };

    private void Add(IObjectOwner owner, TaskReply reply)
    {
        var id = owner.GetGrainId();
        while (true)
        {
            var queue = _owners.GetOrAdd(id, static (_, state) => new OwnerQueue(state.Batches, state.Owner), (Batches: this, Owner: owner));
            if (queue.TryAdd(reply))
            {
                return;
            }

            // That queue just emptied and left the table: the next lookup makes a fresh one.
        }
    }

    /// <summary>One owner's replies waiting to be sent, and whether a send is scheduled.</summary>
    private sealed class OwnerQueue(TaskReplyBatches batches, IObjectOwner owner) : IThreadPoolWorkItem
    {
        private List<TaskReply> _replies = [];
        private bool _scheduled;
        private bool _closed;

        public bool TryAdd(TaskReply reply)
        {
            lock (this)
            {
                if (_closed)
                {
                    return false;
                }

                _replies.Add(reply);
                if (_scheduled)
                {
                    return true;
                }

                _scheduled = true;
            }

            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return true;
        }

        public void Execute()
        {
            while (true)
            {
                List<TaskReply> ready;
                lock (this)
                {
                    if (_replies.Count == 0)
                    {
                        // Idle: leave the table, so owners that are gone are not kept.
                        _scheduled = false;
                        _closed = true;
                        batches._owners.TryRemove(new KeyValuePair<GrainId, OwnerQueue>(owner.GetGrainId(), this));
                        return;
                    }

                    ready = _replies;
                    _replies = [];
                }

                Send(ready);
            }
        }

        private void Send(List<TaskReply> ready)
        {
            var start = 0;
            while (start < ready.Count)
            {
                var end = start;
                long bytes = 0;
                while (end < ready.Count && end - start < MaxReplies && (end == start || bytes < MaxBytes))
                {
                    foreach (var value in ready[end].Values ?? [])
                    {
                        bytes += value.Inline?.Length ?? 0;
                    }

                    end++;
                }

                var batch = ready.GetRange(start, end - start).ToArray();
                start = end;
                try
                {
                    // One-way: an owner that is gone (or a batch lost with a gateway) is found by the owner's own
                    // check for lost replies, as for a reply lost on its way back.
                    _ = owner.TasksRepliedAsync(batch);
                }
                catch (Exception e)
                {
                    LogReplyFailed(batches._logger, batch.Length, e);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending {Count} task replies to their owner failed; the owner finds them lost and runs the tasks again.")]
    private static partial void LogReplyFailed(ILogger logger, int count, Exception exception);
}
