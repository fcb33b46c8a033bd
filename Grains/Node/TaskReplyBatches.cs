using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Node;

/// <summary>
/// The replies of tasks an owner submitted in batches (<see cref="INodeGrain.SubmitAsync"/>), sent back to it in
/// batches: a reply that finds nothing on its way to its owner leaves at once, and replies ready meanwhile leave
/// together when that batch is acknowledged (<see cref="BatchPipe{T}"/>).
/// </summary>
internal sealed partial class TaskReplyBatches(ILogger<TaskReplyBatches> logger)
{
    /// <summary>At most this many replies in one message.</summary>
    private const int MaxReplies = 1024;

    /// <summary>At most about this many inline bytes in one message (far under Orleans' message limit).</summary>
    private const long MaxBytes = 4 << 20;

    private readonly ILogger _logger = logger;
    private readonly ConcurrentDictionary<GrainId, BatchPipe<TaskReply>> _owners = new();

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

    /// <summary>
    /// Sends an actor call's reply to <paramref name="owner"/> once <paramref name="reply"/> completes (the call's id
    /// as the task id). Not on the thread that completes it: that is the actor's executor, which must not send.
    /// </summary>
    public void Track(IObjectOwner owner, ActorCall call, Task<ObjectValue> reply) =>
        reply.ContinueWith(
            static (done, state) =>
            {
                var (batches, owner, call) = ((TaskReplyBatches, IObjectOwner, ActorCall))state!;
                batches.Add(owner, done.IsCompletedSuccessfully
                    ? new TaskReply { TaskId = call.CallId, Attempt = call.Attempt, Values = [done.Result] }
                    : new TaskReply { TaskId = call.CallId, Attempt = call.Attempt, Failure = done.Exception?.GetBaseException() ?? new TaskCanceledException() });
            },
            (this, owner, call), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    private static TaskReply ReplyOf(TaskSpec spec, Task<ObjectValue[]> done) => done.IsCompletedSuccessfully
        ? new TaskReply { TaskId = spec.TaskId, Attempt = spec.Attempt, Values = done.Result }
        : new TaskReply { TaskId = spec.TaskId, Attempt = spec.Attempt, Failure = done.Exception?.GetBaseException() ?? new TaskCanceledException() };

    private void Add(IObjectOwner owner, TaskReply reply)
    {
        var id = owner.GetGrainId();
        // A pipe that just went idle has left the table and refuses the reply: the next lookup makes a fresh one.
        while (!_owners.GetOrAdd(id, static (key, state) => state.Batches.PipeTo(key, state.Owner), (Batches: this, Owner: owner)).TryAdd(reply))
        {
        }
    }

    private BatchPipe<TaskReply> PipeTo(GrainId id, IObjectOwner owner) => new(
        // Sent again while its route is being repaired (a driver's gateway died): replies are idempotent.
        batch => TransientRetry.ReadPipeline.ExecuteAsync(static async (state, _) => await state.owner.TasksRepliedAsync(state.batch).ConfigureAwait(false), (owner, batch)).AsTask(),
        // An owner that is gone (or a batch lost with a gateway) is found by the owner's own check for lost
        // replies, as for a reply lost on its way back.
        (batch, failure) => LogReplyFailed(_logger, batch.Length, failure),
        static reply => InlineBytes(reply),
        MaxReplies,
        MaxBytes,
        idle: pipe => _owners.TryRemove(new KeyValuePair<GrainId, BatchPipe<TaskReply>>(id, pipe))); // owners that are gone are not kept

    private static long InlineBytes(TaskReply reply)
    {
        long bytes = 0;
        foreach (var value in reply.Values ?? [])
        {
            bytes += value.Inline?.Length ?? 0;
        }

        return bytes;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending {Count} task replies to their owner failed; the owner finds them lost and runs the tasks again.")]
    private static partial void LogReplyFailed(ILogger logger, int count, Exception exception);
}
