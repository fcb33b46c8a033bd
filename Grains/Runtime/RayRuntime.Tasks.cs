using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>Tasks: from <c>Remote()</c> to a node's <c>ExecuteAsync</c>, and the reply back into <see cref="OwnedObjects"/>.</summary>
internal sealed partial class RayRuntime
{
    /// <summary>How long a task waits for a fitting node to appear in an empty or shrunken view.</summary>
    private static readonly TimeSpan NodeWaitLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Submits a task this runtime owns: registers its returns, waits here for the owned refs among its
    /// arguments (sending their values with it), then sends it to the least-loaded node that can hold it.
    /// </summary>
    public void SubmitTask(TaskSpec spec)
    {
        WorkerContext.Current?.Children.Enqueue(spec.TaskId);
        if (!spec.IsGenerator)
        {
            for (var i = 1; i <= Math.Max(spec.NumReturns, 1); i++)
            {
                Owned.AddPending(new ObjectId(spec.TaskId, i));
            }
        }

        if (Owned.HasReleases)
        {
            Owned.DrainReleases();
        }

        InFlight.Track(spec, PinOwnedArguments(spec.Args));
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

    /// <summary>Counts a reference to each owned object among the arguments, held until the work is done; null when none.</summary>
    public ObjectId[]? PinOwnedArguments(TaskArg[] args)
    {
        List<ObjectId>? pins = null;
        foreach (var arg in args)
        {
            if (arg.Ref is { } id && Owned.AddRef(id))
            {
                (pins ??= []).Add(id);
            }
        }

        return pins?.ToArray();
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
        for (var i = 0; i < args.Length; i++)
        {
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
        if (Cluster.PickNode(spec.Resources, LocalNodeId, forActor: false) is { } node)
        {
            SendTo(spec, node, attempt);
        }
        else if (Cluster.Nodes.Count == 0 || attempt > 0)
        {
            // An empty view is a cluster between states (its view grain moving after a node died), not
            // an answer: wait for nodes to report before calling the task infeasible.
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
            if (Cluster.PickNode(spec.Resources, LocalNodeId, forActor: false) is { } node)
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
        FailReturns(spec, SystemError(spec.TaskId, spec.Name,
            "RayOrleans.InfeasibleTask", $"No node can ever run task '{spec.Name}': {Cluster.DescribeInfeasible(spec.Resources)}."));
    }

    private void SendTo(TaskSpec spec, string node, int attempt)
    {
        if (!InFlight.Sent(spec.TaskId, node))
        {
            return; // cancelled before it left
        }

        var reply = node == LocalNodeId && LocalScheduler is { } local ? local.Enqueue(spec) : Node(node).ExecuteAsync(spec);
        reply.ContinueWith(
            static (reply, state) =>
            {
                var (runtime, spec, node, attempt) = ((RayRuntime, TaskSpec, string, int))state!;
                runtime.OnTaskReply(spec, node, attempt, reply);
            },
            (this, spec, node, attempt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnTaskReply(TaskSpec spec, string node, int attempt, Task<ObjectValue[]> reply)
    {
        if (reply.IsCompletedSuccessfully)
        {
            InFlight.Finished(spec.TaskId);
            var values = reply.Result;
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

        var e = reply.Exception!.GetBaseException();
        if (e is OrleansMessageRejectionException && attempt == InFlight.AttemptOf(spec.TaskId))
        {
            // The message never reached the node (it is going away): it did not run; choose a node again.
            _ = Task.Delay(200).ContinueWith(_ => Dispatch(spec, attempt), TaskScheduler.Default);
            return;
        }

        if (IsNodeLost(e))
        {
            InFlight.Lost(spec.TaskId, attempt, node);
            return;
        }

        LogSubmitFailed(_logger, spec.Name, spec.TaskId, e);
        InFlight.Finished(spec.TaskId);
        FailReturns(spec, RayErrors.FromException(e, spec.Name, spec.TaskId, node));
    }

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
            FailReturns(unsent, CancelledError(unsent.TaskId, unsent.Name, LocalNodeId));
            return true;
        }

        // The cancel goes to every node; each ignores ids it does not have (and remembers them for a while,
        // in case the task is still on its way there).
        var nodes = Cluster.Nodes;
        var found = await Task.WhenAll(nodes.Select(n => Node(n.NodeId).CancelAsync(taskId, force, recursive))).ConfigureAwait(false);
        return found.Any(f => f);
    }

    public static RayErrorInfo CancelledError(Guid taskId, string name, string? node) => new()
    {
        Kind = RayErrorKind.Cancelled, ExceptionType = typeof(TaskCancelledException).FullName!,
        Message = $"Task '{name}' ({taskId:N}) was cancelled.", TaskName = name, TaskId = taskId, Node = node,
    };
}
