using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>Tasks: from <c>Remote()</c> to a node's <c>ExecuteAsync</c>, and the reply back into <see cref="OwnedObjects"/>.</summary>
internal sealed partial class RayRuntime : Node.ILocalTaskOwner
{
    /// <summary>How long a task waits for a fitting node to appear in an empty or shrunken view.</summary>
    private static readonly TimeSpan NodeWaitLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Submits a task this runtime owns: registers its returns, waits here for the owned refs among its
    /// arguments (sending their values with it), then sends it to the least-loaded node that can hold it.
    /// </summary>
    public void SubmitTask(TaskSpec spec)
    {
        using var span = Telemetry.RayTracing.StartSubmit(ref spec, LocalNodeId);
        WorkerContext.Current?.AddChild(spec.TaskId);
        if (Owned.HasReleases)
        {
            Owned.DrainReleases();
        }

        // By-value bytes as the caller passed them, before large ones become refs: what the lineage limit counts.
        var argumentBytes = 0L;
        foreach (var arg in spec.Args)
        {
            argumentBytes += arg.Value?.Length ?? 0;
        }

        var submitted = spec;
        spec = PromoteLargeArguments(spec);
        var promoted = !ReferenceEquals(spec, submitted);
        var pins = PinArguments(spec.Args);
        if (!spec.IsGenerator)
        {
            // The spec is the returns' lineage: kept while they live, to make them again if a copy is lost;
            // unless its by-value arguments are too big to keep that long.

            // A promoted argument lives only while the task runs (its pin), so such a task keeps no lineage either.
            object lineage = argumentBytes > Options.MaxLineageArgumentBytes || promoted
                ? new OwnedObjects.NoLineage(spec.Name, spec.TaskId, argumentBytes, Options.MaxLineageArgumentBytes)
                : OwnedRefArguments(spec.Args, pins) is { } owned ? new OwnedObjects.Lineage(spec, owned) : spec;
            for (var i = 1; i <= Math.Max(spec.NumReturns, 1); i++)
            {
                Owned.AddPending(new ObjectId(spec.TaskId, i), lineage);
            }
        }

        Send(spec, pins);
    }

    /// <summary>
    /// Runs a task again to make its lost returns (lineage reconstruction, as Ray's owner does): under the
    /// same id, with its owned ref arguments resolved again. An argument whose copy is lost too fails the run
    /// with its id, and <see cref="RebuildLostArgument"/> makes it again and sends the task once more.
    /// </summary>
    private void Rebuild(TaskSpec spec)
    {
        LogRebuild(_logger, spec.Name, spec.TaskId);
        Send(spec with { Spillbacks = 0 }, PinArguments(spec.Args));
    }

    /// <summary>
    /// Tracks a task whose returns are registered (holding <paramref name="pins"/> on its owned arguments until
    /// it is done), and sends it once those arguments are ready.
    /// </summary>
    private void Send(TaskSpec spec, ObjectId[]? pins)
    {
        InFlight.Track(spec, pins);
        var args = ResolveOwnedArguments(spec.Args, out var pending);
        if (pending is null)
        {
            Dispatch(args == spec.Args ? spec : spec with { Args = args }, attempt: 0);
        }
        else
        {
            _ = DispatchWhenResolvedAsync(spec, pending);
        }
    }

    private async Task DispatchWhenResolvedAsync(TaskSpec spec, Task pending)
    {
        await pending.ConfigureAwait(false);
        if (InFlight.AttemptOf(spec.TaskId) < 0)
        {
            return; // cancelled while it waited for its arguments here
        }

        Dispatch(spec with { Args = ResolveOwnedArguments(spec.Args, out _) }, attempt: 0);
    }

    /// <summary>
    /// The ref arguments this process owns (a re-run reads them again from here); null when none. When they are
    /// exactly the work's <paramref name="pins"/> (the usual case: owned refs, none inside a value), the pins' array
    /// is returned (both are only read).
    /// </summary>
    public ObjectId[]? OwnedRefArguments(TaskArg[] args, ObjectId[]? pins = null)
    {
        // Counted first, then filled: one exact array per call, not a list and its copy.
        var count = 0;
        var nested = false;
        foreach (var arg in args)
        {
            if (arg.Ref is { } id && Owned.Owns(id))
            {
                count++;
            }

            nested |= arg.Refs is not null;
        }

        if (count == 0)
        {
            return null;
        }

        if (!nested && pins is not null && pins.Length == count)
        {
            return pins; // every pin is a top-level ref (PinArguments takes those in order), and each is owned
        }

        var owned = new ObjectId[count];
        var n = 0;
        foreach (var arg in args)
        {
            if (arg.Ref is { } id && Owned.Owns(id) && n < count)
            {
                owned[n++] = id;
            }
        }

        return n == count ? owned : owned[..n];
    }

    /// <summary>
    /// Counts a local reference to each object among the arguments (refs, and refs inside values), held until
    /// the work is done, so the caller may drop its own refs at once; null when there are none.
    /// </summary>
    /// <summary>
    /// Puts each by-value argument larger than <see cref="RuntimeOptions.MaxInlineArgumentBytes"/> into the
    /// object store and passes a ref to it instead: the object is owned here, pending until stored (the task
    /// leaves once it is, as for any pending owned ref), and held only by the task's pin, so it goes when the
    /// task is done.
    /// </summary>
    private TaskSpec PromoteLargeArguments(TaskSpec spec)
    {
        var args = PromoteLargeArguments(spec.Args);
        return ReferenceEquals(args, spec.Args) ? spec : spec with { Args = args };
    }

    public TaskArg[] PromoteLargeArguments(TaskArg[] args)
    {
        TaskArg[]? promoted = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].Value is not { } bytes || bytes.Length <= Options.MaxInlineArgumentBytes)
            {
                continue;
            }

            promoted ??= (TaskArg[])args.Clone();
            var id = ObjectId.NewPut();
            Owned.AddPending(id);
            _ = StoreArgumentAsync(id, bytes, args[i].Refs);
            promoted[i] = new TaskArg { Ref = id };
        }

        return promoted ?? args;
    }

    private async Task StoreArgumentAsync(ObjectId id, byte[] bytes, ObjectId[]? refs)
    {
        ObjectValue value;
        try
        {
            value = refs is null ? await StoreAsync(id, bytes).ConfigureAwait(false) : await StoreHoldingRefsAsync(id, bytes, refs).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            value = new ObjectValue { Error = RayErrors.FromException(e, "argument", id.TaskId, LocalNodeId), Size = bytes.Length };
        }

        if (!Owned.Complete(id, value))
        {
            FreeStored(id, value);
        }
    }

    public ObjectId[]? PinArguments(TaskArg[] args)
    {
        // Counted first, then filled: one exact array per call, not a list and its copy.
        var count = 0;
        foreach (var arg in args)
        {
            count += (arg.Ref is null ? 0 : 1) + (arg.Refs?.Length ?? 0);
        }

        if (count == 0)
        {
            return null;
        }

        var pins = new ObjectId[count];
        var n = 0;
        foreach (var arg in args)
        {
            if (arg.Ref is { } id)
            {
                Owned.AddRef(id);
                pins[n++] = id;
            }

            foreach (var inner in arg.Refs ?? [])
            {
                Owned.AddRef(inner);
                pins[n++] = inner;
            }
        }

        return pins;
    }

    /// <summary>
    /// The arguments with each owned, ready ref replaced by its record; <paramref name="pending"/> completes
    /// when the owned refs not ready yet are (null when there are none). Refs owned elsewhere stay refs.
    /// </summary>
    public TaskArg[] ResolveOwnedArguments(TaskArg[] args, out Task? pending)
    {
        pending = null;
        TaskArg[]? resolved = null;
        List<Task>? waits = null;
        var flushing = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].Refs is not null && !flushing)
            {
                // Refs inside a value: the holds they took (an owner's first, when its ref escaped just now)
                // reach the directory before the task does, so no reader there can let go of them first.
                flushing = true;
                (waits ??= []).Add(Publisher.FlushAsync());
            }

            if (args[i] is not { Ref: { } id, Resolved: null })
            {
                continue;
            }

            if (Owned.TryGetReady(id, out var value))
            {
                resolved ??= (TaskArg[])args.Clone();
                resolved[i] = new TaskArg { Ref = id, Resolved = value };
            }
            else if (Owned.WhenReady(id) is { } wait)
            {
                (waits ??= []).Add(wait);
            }
        }

        if (waits is not null)
        {
            pending = Task.WhenAll(waits);
        }

        return resolved ?? args;
    }

    /// <summary>Sends (or sends again, on <paramref name="attempt"/>) a task to a node that fits it.</summary>
    public void Dispatch(TaskSpec spec, int attempt)
    {
        if (spec.Strategy is { Kind: SchedulingKind.PlacementGroup } group)
        {
            DispatchToGroup(spec, group, attempt);
            return;
        }

        if (Cluster.Pick(spec.Resources, spec.Strategy, LocalNodeId, forActor: false) is { } node)
        {
            SendTo(spec, node, attempt);
        }
        else if (spec.Strategy is not { Kind: SchedulingKind.NodeAffinity, Soft: false })
        {
            // No node can ever run it (or the view is empty between states): it waits, as in Ray, until one can.
            Infeasible.Park(spec, attempt);
        }
        else if (Cluster.Nodes.Count == 0 || attempt > 0)
        {
            // An empty view is a cluster between states (its view grain moving after a node died), not
            // an answer: wait for nodes to report before calling the pinned node gone.
            _ = DispatchWhenANodeFitsAsync(spec, attempt);
        }
        else
        {
            FailInfeasible(spec);
        }
    }

    private async Task DispatchWhenANodeFitsAsync(TaskSpec spec, int attempt)
    {
        var deadline = DateTime.UtcNow + NodeWaitLimit;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(100).ConfigureAwait(false);
            if (Cluster.Pick(spec.Resources, spec.Strategy, LocalNodeId, forActor: false) is { } node)
            {
                SendTo(spec, node, attempt);
                return;
            }
        }

        FailInfeasible(spec);
    }

    private void FailInfeasible(TaskSpec spec)
    {
        InFlight.Finished(spec.TaskId);
        var error = SystemError(spec.TaskId, spec.Name,
            "RayOrleans.InfeasibleTask", $"No node can ever run task '{spec.Name}': {Cluster.DescribeInfeasible(spec.Resources, spec.Strategy)}.");
        OwnerEvents.TaskEnded(spec, spec.Attempt, null, error, retried: false);
        FailReturns(spec, error);
    }

    private void SendTo(TaskSpec spec, string node, int attempt)
    {
        if (!InFlight.Sent(spec.TaskId, node))
        {
            return; // cancelled before it left
        }

        if (spec.Attempt != attempt)
        {
            spec = spec with { Attempt = attempt }; // what the state API shows; only sends again pay for the copy
        }

        if (node != LocalNodeId && Batches is { } batches)
        {
            batches.Send(spec, node, attempt);
            return;
        }

        Task<ObjectValue[]>? reply;
        if (node == LocalNodeId && LocalScheduler is { } local)
        {
            // The node is this process's: it calls back with the reply (OnTaskReply), unless it has one already.
            if ((reply = local.EnqueueLocal(spec, this, attempt)) is null)
            {
                return;
            }
        }
        else
        {
            reply = Node(node).ExecuteAsync(spec);
        }

        reply.ContinueWith(
            static (reply, state) =>
            {
                var (runtime, spec, node, attempt) = ((RayRuntime, TaskSpec, string, int))state!;
                if (reply.IsCompletedSuccessfully)
                {
                    runtime.OnTaskReply(spec, node, attempt, reply.Result, null);
                }
                else
                {
                    runtime.OnTaskReply(spec, node, attempt, null, reply.Exception!.GetBaseException());
                }
            },
            (this, spec, node, attempt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// The sender that batches this runtime's submissions to other nodes, and their replies, per node
    /// (<see cref="TaskBatchSender"/>): a driver's, and a node's for what its tasks and actors send elsewhere. Null
    /// when <see cref="RuntimeOptions.BatchSubmissions"/> is off, or where this runtime cannot be reached as an owner
    /// (then each task is its own call).
    /// </summary>
    private TaskBatchSender? Batches
    {
        get
        {
            if (_batches is { } made || !Options.BatchSubmissions)
            {
                return _batches;
            }

            if (OwnerReference() is not { } owner)
            {
                return null;
            }

            Interlocked.CompareExchange(ref _batches, new TaskBatchSender(this, owner), null);
            return _batches;
        }
    }

    private TaskBatchSender? _batches;

    /// <summary>Tasks this driver sent in batches, and the batches they went in; zeros where it does not batch.</summary>
    public (long Tasks, long Batches) BatchedSends => _batches?.Sent ?? (0, 0);

    /// <summary>Replies pushed in a batch by a node (the owner endpoint receives them).</summary>
    public void OnTaskReplies(TaskReply[] replies) => _batches?.Replied(replies);

    /// <summary>Forgets batched sends that will never be replied for (from the in-flight sweep).</summary>
    public void ForgetSettledSends() => _batches?.ForgetSettled();

    /// <summary>
    /// A task's reply came (<paramref name="values"/>), or its call failed (<paramref name="failure"/>): the returns
    /// become the owner's copies, or the task is retried or fails, as the failure says.
    /// </summary>
    public void OnTaskReply(TaskSpec spec, string node, int attempt, ObjectValue[]? values, Exception? failure)
    {
        if (failure is null)
        {
            values ??= [];
            if (attempt == InFlight.AttemptOf(spec.TaskId) && RebuildLostArgument(spec, values))
            {
                return;
            }

            if (values.Length > 0 && values[0].Error is { Kind: RayErrorKind.OutOfMemory } oom && InFlight.RetryAfterMemoryKill(spec.TaskId, attempt, node, oom.Message, oom.Attempt))
            {
                return; // its node's memory monitor cancelled it: it runs again, as Ray retries tasks its OOM killer stopped
            }

            InFlight.Finished(spec.TaskId);
            for (var i = 0; i < values.Length; i++)
            {
                var id = new ObjectId(spec.TaskId, i + 1);
                if (!Owned.Complete(id, values[i]))
                {
                    FreeStored(id, values[i]); // every ref to it went while the task ran
                }
            }

            return;
        }

        var e = failure;
        if (e is OrleansMessageRejectionException && attempt == InFlight.AttemptOf(spec.TaskId))
        {
            // The message never reached the node (it is going away): it did not run; choose a node again.
            if (node != LocalNodeId)
            {
                Cluster.MarkUnreachable(node);
            }

            DispatchLater(spec, attempt);
            return;
        }

        if (IsNodeLost(e))
        {
            if (node != LocalNodeId)
            {
                Cluster.MarkUnreachable(node); // its next attempt goes elsewhere, not back to the node that failed it
            }

            InFlight.Lost(spec.TaskId, attempt, node);
            return;
        }

        LogSubmitFailed(_logger, spec.Name, spec.TaskId, e);
        InFlight.Finished(spec.TaskId);
        var error = RayErrors.FromException(e, spec.Name, spec.TaskId, node);
        OwnerEvents.TaskEnded(spec, attempt, node, error, retried: false);
        FailReturns(spec, error);
    }

    // Its own method: the lambda's closure in OnTaskReply would be allocated on every reply.
    private void DispatchLater(TaskSpec spec, int attempt) => _ = Task.Delay(200).ContinueWith(_ => Dispatch(spec, attempt), TaskScheduler.Default);

    /// <summary>
    /// The task failed because the copy of one of its owned ref arguments was lost (its node died): makes that
    /// argument again from its lineage and sends the task again, keeping its pins. False when the failure is
    /// not that, or the argument cannot be made again (then the failure is the result).
    /// </summary>
    private bool RebuildLostArgument(TaskSpec spec, ObjectValue[] values)
    {
        foreach (var value in values)
        {
            if (value.Error is not { Kind: RayErrorKind.ObjectLost, LostObject: { } lost })
            {
                continue;
            }

            // The copy the task was sent (its resolved record): if the owner's value is another one now, the
            // argument was made again meanwhile (or is being), and the task only needs sending again.
            var sent = SentRecord(spec.Args, lost);
            if (sent is not { Error: null, Location: not null } || !Owned.Owns(lost))
            {
                return false;
            }

            if (Owned.TryGetReady(lost, out var current) && ReferenceEquals(current, sent) &&
                Owned.TryRebuild(lost, sent, Rebuild, out _) != OwnedObjects.RebuildOutcome.Started)
            {
                return false;
            }

            LogArgumentRebuild(_logger, spec.Name, spec.TaskId, lost);
            Send(spec with { Spillbacks = 0, Args = Unresolve(spec.Args) }, InFlight.Untrack(spec.TaskId));
            return true;
        }

        return false;
    }

    /// <summary>The record an argument carried for <paramref name="id"/> (a loop, not a lambda: its closure would cost every reply).</summary>
    private static ObjectValue? SentRecord(TaskArg[] args, ObjectId id)
    {
        foreach (var arg in args)
        {
            if (arg.Ref == id)
            {
                return arg.Resolved;
            }
        }

        return null;
    }

    /// <summary>The arguments with owned records turned back into refs, to be resolved again from the owner's table.</summary>
    private static TaskArg[] Unresolve(TaskArg[] args) =>
        args.Any(a => a.Resolved is not null) ? args.Select(a => a.Resolved is not null ? new TaskArg { Ref = a.Ref } : a).ToArray() : args;

    /// <summary>
    /// Makes <paramref name="error"/> the value of every return of a task this runtime owns; a generator's
    /// end record goes to the directory, where its consumer reads the stream.
    /// </summary>
    public void FailReturns(TaskSpec spec, RayErrorInfo error) => FailReturns(spec.TaskId, spec.NumReturns, spec.IsGenerator, error);

    public void FailReturns(Guid taskId, int numReturns, bool isGenerator, RayErrorInfo error)
    {
        var value = new ObjectValue { Error = error, ProducerNode = LocalNodeId };
        if (isGenerator)
        {
            // A generator's failure ends its stream: the end record (index 0) carries the error.
            Publisher.Publish(new ObjectId(taskId, 0), value);
            return;
        }

        for (var i = 1; i <= Math.Max(numReturns, 1); i++)
        {
            Owned.Complete(new ObjectId(taskId, i), value);
        }
    }

    /// <summary>
    /// Cancels a task: one still waiting here for its arguments fails at once; one on a node is cancelled
    /// there (a queued task never runs; a running one sees its token cancelled).
    /// </summary>
    public async Task<bool> CancelAsync(Guid taskId, bool force, bool recursive)
    {
        if (InFlight.TryCancelUnsent(taskId) is { } unsent)
        {
            var cancelled = CancelledError(unsent.TaskId, unsent.Name, LocalNodeId);
            OwnerEvents.TaskEnded(unsent, unsent.Attempt, null, cancelled, retried: false);
            FailReturns(unsent, cancelled);
            return true;
        }

        // The cancel goes to every node; each ignores ids it does not have (and remembers them for a while,
        // in case the task is still on its way there).
        var nodes = Cluster.Reported;
        var found = await Task.WhenAll(nodes.Select(n => Node(n.NodeId).CancelAsync(taskId, force, recursive))).ConfigureAwait(false);
        return found.Any(f => f);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A return of task '{Name}' ({TaskId}) was lost with its node; running the task again to make it.")]
    private static partial void LogRebuild(ILogger logger, string name, Guid taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task '{Name}' ({TaskId}) could not read its argument {Argument}, lost with its node; making the argument again and running the task again.")]
    private static partial void LogArgumentRebuild(ILogger logger, string name, Guid taskId, ObjectId argument);

    public static RayErrorInfo CancelledError(Guid taskId, string name, string? node) => new()
    {
        Kind = RayErrorKind.Cancelled, ExceptionType = typeof(TaskCancelledException).FullName!,
        Message = $"Task '{name}' ({taskId:N}) was cancelled.", TaskName = name, TaskId = taskId, Node = node,
    };
}
