using System.Collections.Concurrent;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// An external driver's task submissions, sent to each node in batches (<see cref="INodeGrain.SubmitAsync"/>), and
/// their replies, which the node pushes back in batches (<see cref="IObjectOwner.TasksRepliedAsync"/>). Across the
/// gateway every message costs a serialization, a socket write and a dispatch on each side, and an Orleans client
/// sending one message per task spent most of its time there. A task that finds nothing on its way to its node
/// leaves at once; tasks submitted meanwhile leave together when that batch is acknowledged (<see cref="BatchPipe{T}"/>).
/// </summary>
/// <remarks>
/// Only drivers batch (a runtime on a node sends to other nodes one call per task): a driver already checks for
/// replies lost on their way back (<see cref="InFlightTasks"/>), which also finds a reply batch that never came.
/// </remarks>
internal sealed class TaskBatchSender
{
    /// <summary>At most this many tasks in one message.</summary>
    private const int MaxTasks = 1024;

    /// <summary>At most about this many bytes of inline arguments in one message (far under Orleans' message limit).</summary>
    private const long MaxBytes = 4 << 20;

    private readonly RayRuntime _runtime;
    private readonly IObjectOwner _owner;
    private readonly ConcurrentDictionary<string, NodeLink> _nodes = new(StringComparer.Ordinal);

    /// <summary>Tasks sent in batches and not yet replied for, by task and attempt.</summary>
    private readonly ConcurrentDictionary<(Guid Task, int Attempt), (TaskSpec Spec, NodeLink Link)> _waiting = new();

    public TaskBatchSender(RayRuntime runtime, IObjectOwner owner)
    {
        _runtime = runtime;
        _owner = owner;
    }

    /// <summary>
    /// Sends <paramref name="spec"/> (already numbered <paramref name="attempt"/>) to <paramref name="node"/>. A task
    /// that finds none of this driver's tasks waiting on that node goes as its own call, which costs two messages
    /// where a batch of one costs four (the batch and the replies are acknowledged): a driver that waits for each
    /// task before the next (Ray's <c>get(f.remote())</c> loop) never batches. Tasks sent while others wait there
    /// go in batches.
    /// </summary>
    public void Send(TaskSpec spec, string node, int attempt)
    {
        var link = _nodes.GetOrAdd(node, static (id, sender) => new NodeLink(id, sender), this);
        if (Interlocked.Increment(ref link.Waiting) == 1)
        {
            _runtime.Node(node).ExecuteAsync(spec).ContinueWith(
                static (reply, state) =>
                {
                    var (sender, link, spec, attempt) = ((TaskBatchSender, NodeLink, TaskSpec, int))state!;
                    Interlocked.Decrement(ref link.Waiting);
                    if (reply.IsCompletedSuccessfully)
                    {
                        sender._runtime.OnTaskReply(spec, link.Node, attempt, reply.Result, null);
                    }
                    else
                    {
                        sender._runtime.OnTaskReply(spec, link.Node, attempt, null, reply.Exception!.GetBaseException());
                    }
                },
                (this, link, spec, attempt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        _waiting[(spec.TaskId, attempt)] = (spec, link);
        Interlocked.Increment(ref _batchedTasks);
        link.Pipe.TryAdd(spec);
    }

    private long _batchedTasks;
    private long _batches;

    /// <summary>Tasks sent in batches so far, and the batches they went in (for tests and diagnostics).</summary>
    public (long Tasks, long Batches) Sent => (Interlocked.Read(ref _batchedTasks), Interlocked.Read(ref _batches));

    private static long ArgumentBytes(TaskSpec spec)
    {
        long bytes = 0;
        foreach (var arg in spec.Args)
        {
            bytes += arg.Value?.Length ?? 0;
        }

        return bytes;
    }

    /// <summary>One node as this driver sends to it: its batch pipe, and how many of its tasks wait there for replies.</summary>
    private sealed class NodeLink
    {
        public NodeLink(string node, TaskBatchSender sender)
        {
            Node = node;
            Pipe = new BatchPipe<TaskSpec>(
                batch =>
                {
                    Interlocked.Increment(ref sender._batches);
                    return sender._runtime.Node(node).SubmitAsync(batch, sender._owner);
                },
                (batch, failure) => sender.SendFailed(batch, failure),
                static spec => ArgumentBytes(spec),
                MaxTasks,
                MaxBytes);
        }

        public string Node { get; }

        public BatchPipe<TaskSpec> Pipe { get; }

        /// <summary>Tasks sent to the node (either way) whose reply has not come.</summary>
        public int Waiting;
    }

    /// <summary>A batch of replies came: each goes where a reply to its own call would.</summary>
    public void Replied(TaskReply[] replies)
    {
        foreach (var reply in replies)
        {
            if (_waiting.TryRemove((reply.TaskId, reply.Attempt), out var sent))
            {
                Interlocked.Decrement(ref sent.Link.Waiting);
                _runtime.OnTaskReply(sent.Spec, sent.Link.Node, reply.Attempt, reply.Values, reply.Failure);
            }
        }
    }

    /// <summary>
    /// Forgets sends that will never be replied for: the task finished another way, or was sent again (a later
    /// attempt) after its node was lost. Called from the in-flight sweep; a reply that still comes is dropped.
    /// </summary>
    public void ForgetSettled()
    {
        foreach (var (key, _) in _waiting)
        {
            if (_runtime.InFlight.AttemptOf(key.Task) != key.Attempt && _waiting.TryRemove(key, out var sent))
            {
                Interlocked.Decrement(ref sent.Link.Waiting);
            }
        }
    }

    private void SendFailed(TaskSpec[] batch, Exception failure)
    {
        if (failure is TimeoutException)
        {
            // No answer, but the tasks may have arrived: the check for lost replies asks the node which it holds,
            // and runs again the ones it does not (as for a reply that never came).
            return;
        }

        foreach (var spec in batch)
        {
            if (_waiting.TryRemove((spec.TaskId, spec.Attempt), out var sent))
            {
                Interlocked.Decrement(ref sent.Link.Waiting);
                _runtime.OnTaskReply(sent.Spec, sent.Link.Node, spec.Attempt, null, failure);
            }
        }
    }
}
