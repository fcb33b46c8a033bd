using System.Collections.Concurrent;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// An external driver's task submissions, sent to each node in batches (<see cref="INodeGrain.SubmitAsync"/>), and
/// their replies, which the node pushes back in batches (<see cref="IObjectOwner.TasksRepliedAsync"/>). Across the
/// gateway every message costs a serialization, a socket write and a dispatch on each side, and an Orleans client
/// sending one message per task spent most of its time there: batching pays that once per batch. A task submitted
/// while a batch to the same node is being sent joins the next one; a lone task leaves at once (one hop to the
/// thread pool), so a burst is batched and a single call is not delayed.
/// </summary>
/// <remarks>
/// Only drivers batch (a runtime on a node sends to other nodes one call per task): a driver already checks for
/// replies lost on their way back (<see cref="InFlightTasks"/>), which also finds a reply batch that never came.
/// </remarks>
internal sealed class TaskBatchSender(RayRuntime runtime, IObjectOwner owner)
{
    private readonly RayRuntime _runtime = runtime;
    private readonly IObjectOwner _owner = owner;

    /// <summary>At most this many tasks in one message.</summary>
    private const int MaxTasks = 1024;

    /// <summary>At most about this many bytes of inline arguments in one message (far under Orleans' message limit).</summary>
    private const long MaxBytes = 4 << 20;

    private readonly ConcurrentDictionary<string, NodeQueue> _nodes = new(StringComparer.Ordinal);

    /// <summary>Tasks sent and not yet replied for, by task and attempt.</summary>
    private readonly ConcurrentDictionary<(Guid Task, int Attempt), (TaskSpec Spec, string Node)> _waiting = new();

    /// <summary>Queues <paramref name="spec"/> (already numbered <paramref name="attempt"/>) for <paramref name="node"/>.</summary>
    public void Send(TaskSpec spec, string node, int attempt)
    {
        _waiting[(spec.TaskId, attempt)] = (spec, node);
        _nodes.GetOrAdd(node, static (id, sender) => new NodeQueue(sender, id), this).Add(spec);
    }

    /// <summary>A batch of replies came: each goes where a reply to its own call would.</summary>
    public void Replied(TaskReply[] replies)
    {
        foreach (var reply in replies)
        {
            if (_waiting.TryRemove((reply.TaskId, reply.Attempt), out var sent))
            {
                _runtime.OnTaskReply(sent.Spec, sent.Node, reply.Attempt, reply.Values, reply.Failure);
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
            if (_runtime.InFlight.AttemptOf(key.Task) != key.Attempt)
            {
                _waiting.TryRemove(key, out _);
            }
        }
    }

    private void SendFailed(TaskSpec[] batch, string node, Exception failure)
    {
        foreach (var spec in batch)
        {
            if (_waiting.TryRemove((spec.TaskId, spec.Attempt), out var sent))
            {
                _runtime.OnTaskReply(sent.Spec, node, spec.Attempt, null, failure);
            }
        }
    }

    /// <summary>One node's tasks waiting to be sent, and whether a send is scheduled.</summary>
    private sealed class NodeQueue(TaskBatchSender sender, string node) : IThreadPoolWorkItem
    {
        private List<TaskSpec> _tasks = [];
        private bool _scheduled;

        public void Add(TaskSpec spec)
        {
            lock (this)
            {
                _tasks.Add(spec);
                if (_scheduled)
                {
                    return;
                }

                _scheduled = true;
            }

            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        public void Execute()
        {
            while (true)
            {
                List<TaskSpec> ready;
                lock (this)
                {
                    if (_tasks.Count == 0)
                    {
                        _scheduled = false;
                        return;
                    }

                    ready = _tasks;
                    _tasks = [];
                }

                var start = 0;
                while (start < ready.Count)
                {
                    var end = start;
                    long bytes = 0;
                    while (end < ready.Count && end - start < MaxTasks && (end == start || bytes < MaxBytes))
                    {
                        foreach (var arg in ready[end].Args)
                        {
                            bytes += arg.Value?.Length ?? 0;
                        }

                        end++;
                    }

                    Send(ready.GetRange(start, end - start).ToArray());
                    start = end;
                }
            }
        }

        private void Send(TaskSpec[] batch)
        {
            Task sent;
            try
            {
                sent = sender._runtime.Node(node).SubmitAsync(batch, sender._owner);
            }
            catch (Exception e)
            {
                sender.SendFailed(batch, node, e);
                return;
            }

            sent.ContinueWith(
                static (done, state) =>
                {
                    var (sender, node, batch) = ((TaskBatchSender, string, TaskSpec[]))state!;
                    sender.SendFailed(batch, node, done.Exception!.GetBaseException());
                },
                (sender, node, batch), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
