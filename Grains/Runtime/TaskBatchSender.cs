using System.Collections.Concurrent;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// An external driver's task submissions and actor calls, sent to each node (<see cref="INodeGrain.SubmitAsync"/>) or
/// actor (<see cref="IActorGrain.CallManyAsync"/>) in batches, and their replies, which the node pushes back in
/// batches (<see cref="IObjectOwner.TasksRepliedAsync"/>). Across the gateway every message costs a serialization, a
/// socket write and a dispatch on each side, and an Orleans client sending one message per task spent most of its
/// time there. Work that finds none of this driver's work waiting at its target goes as its own call (a batch of
/// one costs four messages where its own call costs two); work sent while some waits there goes in batches, one
/// batch on its way at a time (<see cref="BatchPipe{T}"/>).
/// </summary>
/// <remarks>
/// Only drivers batch (a runtime on a node sends one call per task): a driver already checks for replies lost on
/// their way back (<see cref="InFlightTasks"/>), which also finds a reply batch that never came.
/// </remarks>
internal sealed class TaskBatchSender
{
    /// <summary>At most this many tasks or calls in one message.</summary>
    private const int MaxItems = 1024;

    /// <summary>At most about this many bytes of inline arguments in one message (far under Orleans' message limit).</summary>
    private const long MaxBytes = 4 << 20;

    private readonly RayRuntime _runtime;
    private readonly IObjectOwner _owner;
    private readonly ConcurrentDictionary<string, NodeLink> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ActorId, ActorLink> _actors = new();

    /// <summary>Tasks and calls sent in batches and not yet replied for, by id and attempt.</summary>
    private readonly ConcurrentDictionary<(Guid Id, int Attempt), Waiter> _waiting = new();

    private long _batchedTasks;
    private long _batches;

    public TaskBatchSender(RayRuntime runtime, IObjectOwner owner)
    {
        _runtime = runtime;
        _owner = owner;
    }

    /// <summary>Tasks and actor calls sent in batches so far, and the batches they went in (for tests and diagnostics).</summary>
    public (long Tasks, long Batches) Sent => (Interlocked.Read(ref _batchedTasks), Interlocked.Read(ref _batches));

    /// <summary>
    /// Sends <paramref name="spec"/> (already numbered <paramref name="attempt"/>) to <paramref name="node"/>: as its
    /// own call when none of this driver's tasks wait there (Ray's <c>get(f.remote())</c> loop never batches), else
    /// in a batch.
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

        _waiting[(spec.TaskId, attempt)] = new Waiter(spec, null, default, link);
        Interlocked.Increment(ref _batchedTasks);
        link.Pipe.TryAdd(spec);
    }

    /// <summary>
    /// Sends <paramref name="call"/> (already numbered <paramref name="attempt"/>) to its actor: as its own call when
    /// none of this driver's calls wait there, else in a batch. The actor runs a caller's calls in their sequence
    /// order however they arrive.
    /// </summary>
    public void SendCall(ActorId actor, IActorGrain grain, ActorCall call, int attempt)
    {
        var link = _actors.GetOrAdd(actor, static (id, state) => new ActorLink(id, state.Grain, state.Sender), (Grain: grain, Sender: this));
        if (Interlocked.Increment(ref link.Waiting) == 1)
        {
            grain.CallAsync(call).ContinueWith(
                static (reply, state) =>
                {
                    var (sender, link, call, attempt) = ((TaskBatchSender, ActorLink, ActorCall, int))state!;
                    Interlocked.Decrement(ref link.Waiting);
                    sender._runtime.OnCallReply(link.Actor, call, attempt, reply);
                },
                (this, link, call, attempt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        _waiting[(call.CallId, attempt)] = new Waiter(null, call, actor, link);
        Interlocked.Increment(ref _batchedTasks);
        link.Pipe.TryAdd(call);
    }

    private static long ArgumentBytes(TaskArg[] args)
    {
        long bytes = 0;
        foreach (var arg in args)
        {
            bytes += arg.Value?.Length ?? 0;
        }

        return bytes;
    }

    /// <summary>A batch of replies came: each goes where a reply to its own call would.</summary>
    public void Replied(TaskReply[] replies)
    {
        foreach (var reply in replies)
        {
            if (!_waiting.TryRemove((reply.TaskId, reply.Attempt), out var sent))
            {
                continue; // taken already (a batch sent again), or given up
            }

            Interlocked.Decrement(ref sent.Link.Waiting);
            if (sent.Spec is { } spec)
            {
                _runtime.OnTaskReply(spec, ((NodeLink)sent.Link).Node, reply.Attempt, reply.Values, reply.Failure);
            }
            else
            {
                _runtime.OnCallReply(sent.Actor, sent.Call!, reply.Attempt, reply.Failure is null
                    ? Task.FromResult(reply.Values is [var value] ? value : throw new InvalidOperationException($"An actor call's reply carries {reply.Values?.Length ?? 0} values."))
                    : Task.FromException<ObjectValue>(reply.Failure));
            }
        }
    }

    /// <summary>
    /// Forgets sends that will never be replied for: the work finished another way, or was sent again (a later
    /// attempt). Called from the in-flight sweep; a reply that still comes is dropped. Also lets go of the links
    /// to actors with nothing on its way.
    /// </summary>
    public void ForgetSettled()
    {
        foreach (var (key, _) in _waiting)
        {
            if (_runtime.InFlight.AttemptOf(key.Id) != key.Attempt && _waiting.TryRemove(key, out var sent))
            {
                Interlocked.Decrement(ref sent.Link.Waiting);
            }
        }

        foreach (var (actor, link) in _actors)
        {
            if (Volatile.Read(ref link.Waiting) == 0 && link.Pipe.Idle)
            {
                _actors.TryRemove(new KeyValuePair<ActorId, ActorLink>(actor, link));
            }
        }
    }

    private void SendFailed<T>(T[] batch, Func<T, (Guid Id, int Attempt)> key, Exception failure)
    {
        if (failure is TimeoutException)
        {
            // No answer, but the work may have arrived: the check for lost replies asks the node or actor what it
            // holds, and sends again what never arrived (as for a reply that never came).
            return;
        }

        foreach (var item in batch)
        {
            if (!_waiting.TryRemove(key(item), out var sent))
            {
                continue;
            }

            Interlocked.Decrement(ref sent.Link.Waiting);
            if (sent.Spec is { } spec)
            {
                _runtime.OnTaskReply(spec, ((NodeLink)sent.Link).Node, spec.Attempt, null, failure);
            }
            else
            {
                _runtime.OnCallReply(sent.Actor, sent.Call!, sent.Call!.Attempt, Task.FromException<ObjectValue>(failure));
            }
        }
    }

    /// <summary>A task or call sent in a batch, waiting for its reply.</summary>
    private sealed record Waiter(TaskSpec? Spec, ActorCall? Call, ActorId Actor, Link Link);

    /// <summary>A target as this driver sends to it: how much of its work waits there for replies.</summary>
    private abstract class Link
    {
        /// <summary>Work sent to the target (either way) whose reply has not come.</summary>
        public int Waiting;
    }

    private sealed class NodeLink : Link
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
                (batch, failure) => sender.SendFailed(batch, static s => (s.TaskId, s.Attempt), failure),
                static spec => ArgumentBytes(spec.Args),
                MaxItems,
                MaxBytes);
        }

        public string Node { get; }

        public BatchPipe<TaskSpec> Pipe { get; }
    }

    private sealed class ActorLink : Link
    {
        public ActorLink(ActorId actor, IActorGrain grain, TaskBatchSender sender)
        {
            Actor = actor;
            Pipe = new BatchPipe<ActorCall>(
                batch =>
                {
                    Interlocked.Increment(ref sender._batches);
                    return grain.CallManyAsync(batch, sender._owner);
                },
                (batch, failure) => sender.SendFailed(batch, static c => (c.CallId, c.Attempt), failure),
                static call => ArgumentBytes(call.Args),
                MaxItems,
                MaxBytes);
        }

        public ActorId Actor { get; }

        public BatchPipe<ActorCall> Pipe { get; }
    }
}
