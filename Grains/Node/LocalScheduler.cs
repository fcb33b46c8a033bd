using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RayOrleans.Functions;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Node;

/// <summary>
/// This node's task queue and workers (Ray's raylet plus its worker pool, in one process). A task first
/// waits for its ref arguments without holding resources, then for its resources, then runs on the .NET
/// thread pool with a <see cref="WorkerContext"/>, and publishes its returns to the directory.
/// </summary>
internal sealed partial class LocalScheduler : IAsyncDisposable
{
    private const int TombstoneLimit = 10_000;
    private static readonly TimeSpan SpillPassInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<Guid, TaskRun> _tasks = new();
    /// <summary>Tasks passed on to another node (spillback) whose reply this node is still waiting for.</summary>
    private readonly ConcurrentDictionary<Guid, byte> _forwarding = new();
    private readonly ConcurrentDictionary<Guid, byte> _cancelledEarly = new();
    private readonly ConcurrentQueue<Guid> _tombstoneOrder = new();

    /// <summary>Entries in <see cref="_cancelledEarly"/>, read on every enqueue so the usual case (none) skips its lock.</summary>
    private int _tombstones;
    private readonly ILogger<LocalScheduler> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _spillPassStarted;
    private int _running;
    private int _actors;

    public LocalScheduler(NodeResources resources, NodeRuntime node, IOptions<NodeOptions> options, ILogger<LocalScheduler> logger)
    {
        Resources = resources;
        Bundles = new NodeBundles(resources);
        NodeRuntime = node;
        _logger = logger;
        var o = options.Value;
        if (!(o.MemoryUsageThreshold > 0 && o.MemoryUsageThreshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(o.MemoryUsageThreshold), o.MemoryUsageThreshold, "MemoryUsageThreshold must be above 0 and at most 1 (1 turns the memory monitor off).");
        }

        if (o.MemoryMonitorInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(o.MemoryMonitorInterval), o.MemoryMonitorInterval, "MemoryMonitorInterval must not be negative (zero turns the memory monitor off).");
        }

        Memory = new MemoryMonitor(o.MemoryUsageThreshold, o.MemoryMonitorInterval, CancelNewestRetryable, logger);
        Events = new TaskEvents(o.MaxTaskEvents);
        Code = new JobCode(o.JobCodeDirectory, o.JobCodeIdleTimeout, () => Runtime, logger);
        node.Runtime.LocalScheduler = this;
    }

    /// <summary>The ended task attempts this node keeps for the state API.</summary>
    public TaskEvents Events { get; }

    /// <summary>The node's memory monitor: no task starts while it reports pressure.</summary>
    public MemoryMonitor Memory { get; }

    /// <summary>The silo stops: so does the memory monitor's loop.</summary>
    public async ValueTask DisposeAsync()
    {
        await Memory.DisposeAsync().ConfigureAwait(false);
        await Code.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The jobs' shipped code loaded here.</summary>
    public JobCode Code { get; }

    /// <summary>
    /// The memory monitor's last resort: fails the newest running task that may be retried with
    /// <paramref name="why"/> (its owner runs it again) and cancels its token. False when there is none.
    /// </summary>
    public bool CancelNewestRetryable(string why)
    {
        TaskRun? newest = null;
        foreach (var run in _tasks.Values)
        {
            if (run.InUserCode && !run.IsReplied && run.Spec.MaxRetries != 0 && !run.Spec.IsGenerator &&
                (newest is null || run.StartedAt > newest.StartedAt))
            {
                newest = run;
            }
        }

        if (newest is null)
        {
            return false;
        }

        var spec = newest.Spec;
        LogMemoryKill(_logger, spec.Name, spec.TaskId, why);
        // Its row here is the attempt's only one (its owner, told the attempt's number, adds none and numbers its
        // retry after it), marked retried when the owner's budget allows one, as the owner decides.
        var attempt = spec.Attempt + newest.LocalRetries;
        newest.RetriedByOwner = spec.MaxRetries < 0 || attempt < spec.MaxRetries;
        Fail(newest, new RayErrorInfo
        {
            Kind = RayErrorKind.OutOfMemory, ExceptionType = typeof(NodeOutOfMemoryException).FullName!, TaskName = spec.Name, TaskId = spec.TaskId,
            Node = NodeRuntime.NodeId, Message = $"Task '{spec.Name}' was cancelled on node {NodeRuntime.NodeId}: {why}.", Attempt = attempt,
        });
        newest.Cancellation.Cancel();
        // Its owner sends it again at once, under the same id; the cancelled run's code may still be running
        // (it cannot be aborted), so it stops answering for the id: the retry is a new run, not a duplicate.
        _tasks.TryRemove(KeyValuePair.Create(spec.TaskId, newest));
        return true;
    }

    public NodeResources Resources { get; }

    /// <summary>Placement-group bundles reserved here, each a pool of its own.</summary>
    public NodeBundles Bundles { get; }

    /// <summary>
    /// The pool work under <paramref name="strategy"/> takes its resources from: a placement group's bundle
    /// here, or the node's own; null with <paramref name="why"/> when the bundle is not here or too small.
    /// </summary>
    public NodeResources? PoolFor(SchedulingStrategy? strategy, ResourceSet demand, out string why)
    {
        why = "";
        return strategy is { Kind: SchedulingKind.PlacementGroup } pg
            ? Bundles.PoolFor(pg.PlacementGroupId, pg.BundleIndex, demand, NodeRuntime.NodeId, out why)
            : Resources;
    }

    /// <summary>
    /// Gives back a placement group's bundles held here: its queued and running tasks here are cancelled, and
    /// the actors living in it are killed (as Ray does when a group is removed).
    /// </summary>
    public ActorId[] ReturnBundles(Guid group)
    {
        foreach (var run in _tasks.Values)
        {
            if (run.Spec.Strategy is { Kind: SchedulingKind.PlacementGroup } pg && pg.PlacementGroupId == group)
            {
                Cancel(run.Spec.TaskId, force: false, recursive: true);
            }
        }

        return Bundles.Return(group);
    }

    /// <summary>Every actor hosted here and the recently dead, for the state API.</summary>
    public Actors.ActorTable ActorTable { get; } = new();

    /// <summary>The actors alive on this node, for callers in this process to reach without a grain call.</summary>
    public Actors.LocalActors LocalActors { get; } = new();

    public NodeRuntime NodeRuntime { get; }

    private RayRuntime Runtime => NodeRuntime.Runtime;

    public int Queued => _tasks.Count - Volatile.Read(ref _running);

    public int Running => Volatile.Read(ref _running);

    /// <summary>Tasks passed on to another node whose reply this node still relays.</summary>
    public int Forwarding => _forwarding.Count;

    public int Actors => Volatile.Read(ref _actors);

    public void ActorStarted() => Interlocked.Increment(ref _actors);

    public void ActorStopped() => Interlocked.Decrement(ref _actors);

    /// <summary>Queues a task; completes with its returns when it has run (or failed, or was cancelled).</summary>
    public Task<ObjectValue[]> Enqueue(TaskSpec spec) => EnqueueCore(spec, owner: null, attempt: 0)!;

    /// <summary>
    /// Queues a task from its owner in this process, which <paramref name="owner"/> is called back with the reply of,
    /// on the thread that makes it (no task per task). Returns the reply as a task instead where there is one
    /// already: the task was cancelled before it came, or was delivered before.
    /// </summary>
    public Task<ObjectValue[]>? EnqueueLocal(TaskSpec spec, ILocalTaskOwner owner, int attempt) => EnqueueCore(spec, owner, attempt);

    private Task<ObjectValue[]>? EnqueueCore(TaskSpec spec, ILocalTaskOwner? owner, int attempt)
    {
        if (Volatile.Read(ref _tombstones) > 0 && _cancelledEarly.TryRemove(spec.TaskId, out _))
        {
            Interlocked.Decrement(ref _tombstones);
            return Task.FromResult(Cancelled(spec));
        }

        var run = new TaskRun(spec, this);
        if (owner is not null)
        {
            run.CallBack(owner, NodeRuntime.NodeId, attempt);
        }

        while (!_tasks.TryAdd(spec.TaskId, run))
        {
            // A second delivery of a task already here answers with the first one's reply.
            if (_tasks.TryGetValue(spec.TaskId, out var existing))
            {
                return existing.Reply;
            }
        }

        // Leave the caller (the node grain's scheduler, or a local submitter) at once: user code runs on the
        // thread pool, in a clean execution context.
        ThreadPool.UnsafeQueueUserWorkItem(run, preferLocal: false);
        return owner is null ? run.Reply : null;
    }

    /// <summary>The tasks of <paramref name="taskIds"/> this node holds: queued, running, or passed on and awaiting that node's reply.</summary>
    public Guid[] Held(Guid[] taskIds) => taskIds.Where(id => _tasks.ContainsKey(id) || _forwarding.ContainsKey(id)).ToArray();

    public bool Cancel(Guid taskId, bool force, bool recursive)
    {
        if (!_tasks.TryGetValue(taskId, out var run))
        {
            // The cancel may overtake the task on its way here; remember it for a while.
            if (_cancelledEarly.TryAdd(taskId, 0))
            {
                Interlocked.Increment(ref _tombstones);
                _tombstoneOrder.Enqueue(taskId);
                while (_tombstoneOrder.Count > TombstoneLimit && _tombstoneOrder.TryDequeue(out var old))
                {
                    if (_cancelledEarly.TryRemove(old, out _))
                    {
                        Interlocked.Decrement(ref _tombstones);
                    }
                }
            }

            return false;
        }

        LogCancel(_logger, run.Spec.Name, taskId, force, recursive);
        // The cancelled error is the reply at once, so it is what every get sees even if the code finishes
        // anyway. .NET cannot abort a thread: the task's resources stay held until its code returns, so
        // nothing is ever over-committed.
        Reply(run, Cancelled(run.Spec), RayRuntime.CancelledError(taskId, run.Spec.Name, NodeRuntime.NodeId));
        run.Cancellation.Cancel();
        if (recursive && run.Context is { } ctx)
        {
            foreach (var child in ctx.Children)
            {
                _ = Runtime.CancelAsync(child, force, recursive: true);
            }
        }

        return true;
    }

    /// <summary>
    /// Takes over the results of tasks whose owner is exiting: each one's returns go to the object directory
    /// when it finishes (or its error, if passing it on failed), where the refs that outlive the owner read
    /// them. Returns the ids not here.
    /// </summary>
    public Guid[] HandOff(Guid[] taskIds)
    {
        var missing = new List<Guid>();
        foreach (var id in taskIds)
        {
            if (!_tasks.TryGetValue(id, out var run) || run.Spec.IsGenerator)
            {
                missing.Add(id);
                continue;
            }

            // The exited owner took the holds on its arguments; this node keeps them (re-published after a node died,
            // with its returns as handed here) until the task ends.
            Runtime.Hosted.Keep(Objects.ObjectHolders.HandOff(id), RayRuntime.ArgumentRefs(run.Spec.Args),
                handed: Enumerable.Range(1, Math.Max(run.Spec.NumReturns, 1)).Select(i => new ObjectId(id, i)), handedTo: NodeRuntime.NodeId);
            run.Reply.ContinueWith(
                static (reply, state) =>
                {
                    var (runtime, spec, node) = ((RayRuntime, TaskSpec, string))state!;
                    var values = reply.IsCompletedSuccessfully
                        ? reply.Result
                        : Enumerable.Repeat(new ObjectValue { Error = RayErrors.FromException(reply.Exception!.GetBaseException(), spec.Name, spec.TaskId, node) }, Math.Max(spec.NumReturns, 1)).ToArray();
                    for (var i = 0; i < values.Length; i++)
                    {
                        runtime.Publisher.Publish(new ObjectId(spec.TaskId, i + 1), values[i]);
                    }

                    // The exited owner kept the task's arguments alive for it until now.
                    runtime.Hosted.Release(Objects.ObjectHolders.HandOff(spec.TaskId), RayRuntime.ArgumentRefs(spec.Args));
                },
                (Runtime, run.Spec, NodeRuntime.NodeId), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return missing.ToArray();
    }

    public void Acknowledge(Guid taskId, int consumed)
    {
        if (_tasks.TryGetValue(taskId, out var run))
        {
            run.Window.Acknowledge(consumed);
        }
    }

    private async Task RunAsync(TaskRun run)
    {
        WorkerContext.Leave();
        var spec = run.Spec;
        var token = run.Cancellation.Token;
        ObjectValue[]? returns = null;
        JobLoadContext? code = null;
        try
        {
            if (spec.Code is { } package)
            {
                code = await Code.AcquireAsync(package, spec.JobId, token).ConfigureAwait(false);
            }

            var invoker = code is null ? FunctionInvoker.Get(spec.Function) : code.Invoker(spec.Function);
            object?[] args;
            if (spec.GatherArgs)
            {
                // Each argument is one item of the function's one array parameter.
                if (invoker.ArgumentTypes is not [{ IsArray: true } arrayType] || arrayType.GetElementType() is not { } itemType)
                {
                    throw new ArgumentException($"'{spec.Name}' must take exactly one array parameter to be given its arguments as items.");
                }

                var items = await ResolveArgumentsAsync(spec.Args, Enumerable.Repeat(itemType, spec.Args.Length).ToArray(), token).ConfigureAwait(false);
                var gathered = Array.CreateInstance(itemType, items.Length);
                for (var i = 0; i < items.Length; i++)
                {
                    gathered.SetValue(items[i], i);
                }

                args = [gathered];
            }
            else
            {
                if (invoker.ArgumentTypes.Length != spec.Args.Length)
                {
                    throw new ArgumentException($"'{spec.Name}' takes {invoker.ArgumentTypes.Length} arguments but the task carries {spec.Args.Length}.");
                }

                args = await ResolveArgumentsAsync(spec.Args, invoker.ArgumentTypes, token).ConfigureAwait(false);
            }

            run.Phase = TaskPhase.WaitingForResources;
            if (PoolFor(spec.Strategy, spec.Resources, out var noPool) is not { } pool)
            {
                Fail(run, RayRuntime.SystemError(spec.TaskId, spec.Name, "RayOrleans.InfeasibleTask", $"Task '{spec.Name}' cannot run in its placement group: {noPool}."));
                return;
            }

            if (!pool.IsFeasible(spec.Resources))
            {
                Fail(run, RayRuntime.SystemError(spec.TaskId, spec.Name,
                    "RayOrleans.InfeasibleTask", $"Task '{spec.Name}' needs {spec.Resources} but node {NodeRuntime.NodeId} has {pool.Total} in all."));
                return;
            }

            token.ThrowIfCancellationRequested();
            if (Memory.UnderPressure)
            {
                await Memory.WhenRelievedAsync(token).ConfigureAwait(false); // the memory monitor holds new work back
            }

            while (await AcquireOrSpillAsync(run, pool, token).ConfigureAwait(false) is { } other)
            {
                // Busy here, free there: pass the task on once rather than queue it (Ray's spillback), and
                // pass its reply back. Its arguments are resolved there again, from wherever they live.
                _forwarding.TryAdd(spec.TaskId, 0);
                _tasks.TryRemove(KeyValuePair.Create(spec.TaskId, run));
                run.Forwarded = true; // the node it goes to records it
                try
                {
                    Reply(run, await Runtime.Node(other).ExecuteAsync(spec with { Spillbacks = 1 }).ConfigureAwait(false));
                    return;
                }
                catch (Exception e) when (RayRuntime.IsNodeLost(e) && !token.IsCancellationRequested && _tasks.TryAdd(spec.TaskId, run))
                {
                    // The node it was passed to is gone (this node's view still listed it): the task runs here
                    // instead. Failing it back would charge its owner a retry for a node it never chose, and a
                    // retry sent here again could be passed to the same dead node, until its MaxRetries ran out.
                    NodeRuntime.Cluster.MarkUnreachable(other);
                    run.Forwarded = false;
                    run.KeepHere = true;
                    LogSpillbackLost(_logger, spec.Name, spec.TaskId, other, e);
                }
                catch (Exception e)
                {
                    run.TryFail(e);
                    return;
                }
                finally
                {
                    _forwarding.TryRemove(spec.TaskId, out _);
                }
            }

            for (var attempt = 0; ; attempt++)
            {
                if (attempt > 0)
                {
                    await pool.AcquireAsync(spec.Resources, priority: false, token, spec.TaskId).ConfigureAwait(false);
                }

                Interlocked.Increment(ref _running);
                try
                {
                    var ctx = new WorkerContext(spec.TaskId, spec.Name, Runtime, token, pool, spec.Resources, pool.GpuIdsOf(spec.TaskId)) { JobId = spec.JobId, Code = spec.Code };
                    run.Context = ctx;
                    returns = await ExecuteTracedAsync(run, invoker, args, ctx, attempt).ConfigureAwait(false);
                    break;
                }
                catch (Exception e) when (!token.IsCancellationRequested && (spec.MaxRetries < 0 || spec.Attempt + attempt < spec.MaxRetries) &&
                                          e is not RaySerializationException && IsRetried(spec, e))
                {
                    LogRetry(_logger, spec.Name, spec.TaskId, attempt + 1, spec.MaxRetries, e);
                    var failed = Ended(run, TaskStates.Failed, RayRuntime.DescribeFailure(e, run.InUserCode, spec.Name, spec.TaskId, NodeRuntime.NodeId));
                    failed.Retried = true;
                    Events.Add(failed);
                    run.LocalRetries++;
                    run.InUserCode = false;
                    run.Phase = TaskPhase.WaitingForResources;
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                    pool.Release(spec.Resources, spec.TaskId);
                }
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            Reply(run, Cancelled(spec), RayRuntime.CancelledError(spec.TaskId, spec.Name, NodeRuntime.NodeId));
        }
        catch (Exception e)
        {
            Fail(run, RayRuntime.DescribeFailure(e, run.InUserCode, spec.Name, spec.TaskId, NodeRuntime.NodeId));
        }
        finally
        {
            _tasks.TryRemove(KeyValuePair.Create(spec.TaskId, run)); // only this run: a retry may already be here under the same id
            code?.Release();
        }

        // The reply goes after the resources are released, since the caller may submit its next task at once.
        if (returns is not null)
        {
            Telemetry.RayMetrics.TaskFinished(NodeRuntime.NodeId);
            Reply(run, returns);
        }
    }

    /// <summary>Whether the task's options retry <paramref name="e"/>: all exceptions, or one of the listed types (or derived).</summary>
    private static bool IsRetried(TaskSpec spec, Exception e)
    {
        if (spec.RetryExceptions)
        {
            return true;
        }

        if (spec.RetryExceptionTypes is not { Length: > 0 } types)
        {
            return false;
        }

        for (var type = e.GetType(); type is not null; type = type.BaseType)
        {
            if (Array.IndexOf(types, type.FullName) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Takes the task's resources here, or names another node to pass it to: at once when this node is
    /// busy and another reports room, or later while it waits, when the spill pass finds room elsewhere.
    /// A task already passed on once waits here.
    /// </summary>
    private async Task<string?> AcquireOrSpillAsync(TaskRun run, NodeResources pool, CancellationToken token)
    {
        var spec = run.Spec;
        if (NodeRuntime.Draining && DrainTarget(spec) is { } away)
        {
            return away; // the node is being removed: work that still arrives (a stale view sent it) goes elsewhere
        }

        if (pool.TryAcquireNow(spec.Resources, spec.TaskId))
        {
            return null; // the common case: room here now, no waiting and no spill check
        }

        if (spec.Spillbacks > 0 || run.KeepHere || spec.Strategy is { PinsNode: true })
        {
            // Passed on once already (or its passing on failed), or pinned here by its strategy: it waits here.
            await pool.AcquireAsync(spec.Resources, priority: false, token, spec.TaskId).ConfigureAwait(false);
            return null;
        }

        if (NodeRuntime.Cluster.PickSpillback(spec.Resources, NodeRuntime.NodeId) is { } now)
        {
            return now;
        }

        var wait = pool.AcquireAsync(spec.Resources, priority: false, token, spec.TaskId, out var waiter);
        if (waiter is null)
        {
            await wait.ConfigureAwait(false);
            return null; // granted after all
        }

        // The spill pass may withdraw it from the queue to send it where there is room (no cancellation source
        // per waiting task: with a million queued that was a million linked sources).
        run.Spill = waiter;
        try
        {
            EnsureSpillPass();
            await wait.ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested && run.SpillTarget is { } target)
        {
            return target;
        }
        finally
        {
            run.Spill = null;
        }
    }

    /// <summary>
    /// Where a draining node passes a task that still arrives: the least loaded other node that may hold it, as a
    /// submitter would pick (the views leave draining nodes out). Null for a task pinned here or passed on once
    /// already (it runs here, and the drain waits for it or times out), or when no other node fits.
    /// </summary>
    private string? DrainTarget(TaskSpec spec)
    {
        if (spec.Spillbacks > 0 || spec.Strategy is { PinsNode: true })
        {
            return null;
        }

        var self = NodeRuntime.NodeId;
        var other = NodeRuntime.Cluster.PickNode(spec.Resources, preferred: null, forActor: false);
        return other is not null && other != self ? other : NodeRuntime.Cluster.PickSpillback(spec.Resources, self);
    }

    private void EnsureSpillPass()
    {
        if (Interlocked.Exchange(ref _spillPassStarted, 1) == 0)
        {
            _ = Task.Run(SpillPassAsync);
        }
    }

    /// <summary>
    /// Twice a second, moves waiting tasks to nodes whose latest reports show room for them (one timer per
    /// node, not one per waiting task, so a million queued tasks cost one pass).
    /// </summary>
    private async Task SpillPassAsync()
    {
        WorkerContext.Leave();
        using var timer = new PeriodicTimer(SpillPassInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                foreach (var run in _tasks.Values)
                {
                    if (run.Spill is not { } spill || run.SpillTarget is not null)
                    {
                        continue;
                    }

                    if (NodeRuntime.Cluster.PickSpillback(run.Spec.Resources, NodeRuntime.NodeId) is not { } target)
                    {
                        break;
                    }

                    run.SpillTarget = target;
                    if (!spill.Pool.Withdraw(spill))
                    {
                        run.SpillTarget = null; // it got its resources here meanwhile: it runs here
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the background spill pass (the node is shutting down).</summary>
    public void Stop() => _stopping.Cancel();

    /// <summary>Waits for ref arguments (holding no resources) and deserializes every argument.</summary>
    /// <remarks>
    /// Arguments carried inline (the common case) are read here without an async method: no task, no state
    /// machine, no closure per call; only a ref to fetch or refs inside a value take the async path.
    /// </remarks>
    public ValueTask<object?[]> ResolveArgumentsAsync(TaskArg[] args, Type[] types, CancellationToken token)
    {
        if (args.Length == 0)
        {
            return new ValueTask<object?[]>(NoArguments); // the invoker only reads it
        }

        var values = new object?[args.Length];
        var borrowed = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var inline = arg.Value ?? (arg is { Ref: not null, Resolved: { Error: null, Inline: { } resolved } } ? resolved : null);
            if (inline is null)
            {
                return ResolveRestAsync(args, types, values, i, borrowed, token);
            }

            values[i] = Runtime.Deserialize(inline, types[i], out var newRefs);
            borrowed |= newRefs;
        }

        return borrowed ? FlushedAsync(values) : new ValueTask<object?[]>(values);
    }

    private static readonly object?[] NoArguments = [];

    private async ValueTask<object?[]> FlushedAsync(object?[] values)
    {
        // Refs inside the arguments: the directory counts this process before the task can drop or pass them.
        await Runtime.Publisher.FlushAsync().ConfigureAwait(false);
        return values;
    }

    /// <summary>Resolves arguments <paramref name="start"/> on, where a ref must be fetched or a stored record read.</summary>
    private async ValueTask<object?[]> ResolveRestAsync(TaskArg[] args, Type[] types, object?[] values, int start, bool borrowed, CancellationToken token)
    {
        List<Task>? pending = null;
        for (var i = start; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.Value is { } bytes)
            {
                values[i] = Runtime.Deserialize(bytes, types[i], out var newRefs);
                borrowed |= newRefs;
            }
            else if (arg is { Ref: { } resolvedId, Resolved: { } resolved })
            {
                // The caller owned it and sent its record: no lookup, and a failed dependency throws here.
                if (resolved.Error is null && resolved.Inline is { } inline)
                {
                    values[i] = Runtime.Deserialize(inline, types[i], out var newRefs);
                    borrowed |= newRefs;
                }
                else
                {
                    (pending ??= []).Add(SetAsync(values, i, ReadArgumentAsync(resolvedId, resolved, types[i], token)));
                }
            }
            else if (arg.Ref is { } id)
            {
                (pending ??= []).Add(SetAsync(values, i, Runtime.GetAsync(id, types[i], null, token)));
            }
        }

        if (pending is not null)
        {
            await Task.WhenAll(pending).ConfigureAwait(false);
        }

        if (borrowed)
        {
            await Runtime.Publisher.FlushAsync().ConfigureAwait(false);
        }

        return values;
    }

    private static async Task SetAsync(object?[] values, int index, ValueTask<object?> value) => values[index] = await value.ConfigureAwait(false);

    private static async Task SetAsync(object?[] values, int index, Task<object?> value) => values[index] = await value.ConfigureAwait(false);

    private async ValueTask<object?> ReadArgumentAsync(ObjectId id, ObjectValue value, Type type, CancellationToken token)
    {
        using var bytes = await Runtime.ReadAsync(id, value, token).ConfigureAwait(false);
        return await Runtime.DeserializeAsync(bytes.Memory, type).ConfigureAwait(false);
    }

    private async ValueTask<ObjectValue[]> ExecuteAsync(TaskRun run, FunctionInvoker invoker, object?[] args, WorkerContext ctx)
    {
        var spec = run.Spec;
        ctx.Enter();
        run.StartedAt = Environment.TickCount64;
        run.StartTime = DateTime.UtcNow;
        run.Phase = TaskPhase.Running;
        run.InUserCode = true;
        var returned = invoker.Invoke(null, args, ctx.Cancellation);
        switch (invoker.ReturnKind)
        {
            case ReturnKind.Stream:
                await StreamAsync(run, invoker, returned, ctx.Cancellation).ConfigureAwait(false);
                return [];
            case ReturnKind.Awaitable:
                returned = await invoker.Adapter.AwaitAsync(returned).ConfigureAwait(false);
                break;
        }

        return await StoreReturnsAsync(Runtime, spec.TaskId, spec.NumReturns, invoker.ResultType, returned, spec.SplitArray).ConfigureAwait(false);
    }

    /// <summary>
    /// Serializes and stores a result, split into its items when the task has several returns: a tuple's, or
    /// with <paramref name="splitArray"/> an array's (which must have exactly <paramref name="numReturns"/> items).
    /// </summary>
    public static async ValueTask<ObjectValue[]> StoreReturnsAsync(RayRuntime runtime, Guid taskId, int numReturns, Type resultType, object? result, bool splitArray = false)
    {
        if (splitArray)
        {
            if (result is not Array array || array.Rank != 1 || array.Length != numReturns || resultType.GetElementType() is not { } elementType)
            {
                throw new InvalidOperationException($"A task submitted with RemoteSplit({numReturns}) must return an array of exactly {numReturns} items; it returned {(result is Array a ? $"{a.Length} items" : result?.GetType().Name ?? "null")}.");
            }

            var items = new ObjectValue[numReturns];
            for (var i = 0; i < numReturns; i++)
            {
                items[i] = await runtime.StoreValueAsync(new ObjectId(taskId, i + 1), array.GetValue(i), elementType).ConfigureAwait(false);
            }

            return items;
        }

        if (numReturns <= 1)
        {
            return [await runtime.StoreValueAsync(new ObjectId(taskId, 1), result, resultType).ConfigureAwait(false)];
        }

        if (result is not ITuple tuple || tuple.Length != numReturns)
        {
            throw new InvalidOperationException($"A task with NumReturns = {numReturns} must return a tuple of {numReturns} items; it returned {result?.GetType().Name ?? "null"}.");
        }

        var itemTypes = resultType.GetGenericArguments();
        var values = new ObjectValue[numReturns];
        for (var i = 0; i < numReturns; i++)
        {
            values[i] = await runtime.StoreValueAsync(new ObjectId(taskId, i + 1), tuple[i], itemTypes[i]).ConfigureAwait(false);
        }

        return values;
    }

    private async Task StreamAsync(TaskRun run, FunctionInvoker invoker, object? returned, CancellationToken token)
    {
        var spec = run.Spec;
        var count = 0;
        await foreach (var item in invoker.Adapter.Enumerate(returned, token).ConfigureAwait(false))
        {
            count++;
            await Runtime.PublishValueAsync(new ObjectId(spec.TaskId, count), item, invoker.ResultType).ConfigureAwait(false);
            if (spec.GeneratorBackpressure > 0)
            {
                // Pause the producer while too many yielded values wait unconsumed.
                await run.Window.WaitUntilAsync(count - spec.GeneratorBackpressure, token).ConfigureAwait(false);
            }
        }

        await Runtime.PublishValueAsync(new ObjectId(spec.TaskId, 0), null, typeof(object), generatorCount: count).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers the task's caller (the first answer counts: a cancel may have answered already), and records the
    /// attempt's end for the state API.
    /// </summary>
    private void Reply(TaskRun run, ObjectValue[] values, RayErrorInfo? error = null)
    {
        if (run.Forwarded)
        {
            run.TryReply(values);
            return;
        }

        if (run.IsReplied || Interlocked.Exchange(ref run.Replying, 1) == 1)
        {
            return; // replied already: the first reply stands
        }

        if (run.Context is { JobId.Length: > 0 } context)
        {
            context.FlushPendingOutput();
        }

        // The attempt's end is recorded before the reply leaves: the reply's continuation may send it to the owner at
        // once (a batched reply is sent on this thread), and the owner may ask the state API about it right away.
        error ??= values.Length > 0 ? values[0].Error : null;
        Events.Add(Ended(run, error is null ? TaskStates.Finished : TaskStates.Failed, error));
        run.TryReply(values);
    }

    /// <summary>
    /// The state API's rows here: live tasks and actor calls first, then ended attempts newest first, those
    /// matching <paramref name="query"/>, at most its limit.
    /// </summary>
    public TaskState[] ListTasks(TaskQuery query)
    {
        var live = LiveTasks();
        if (query.Type is null || !string.Equals(query.Type, TaskKinds.NormalTask, StringComparison.OrdinalIgnoreCase))
        {
            live = live.Concat(LocalActors.All
                .Where(a => query.ActorId is null || query.ActorId == a.Key.Value)
                .SelectMany(a => a.Value.Live(a.Key, NodeRuntime.NodeId)));
        }

        return live.Concat(Events.Recent()).Where(query.Matches).Take(Math.Max(0, query.Limit)).ToArray();
    }

    /// <summary>Counts by name, type and state: ended attempts since the node started, and what is live now.</summary>
    public TaskSummary[] SummarizeTasks()
    {
        var live = LiveTasks().Concat(LocalActors.All.SelectMany(a => a.Value.Live(a.Key, NodeRuntime.NodeId)))
            .GroupBy(t => (t.Name, t.Type, t.State))
            .Select(g => new TaskSummary(g.Key.Name, g.Key.Type, g.Key.State, g.LongCount()));
        return Events.Summary().Concat(live).ToArray();
    }

    /// <summary>The tasks queued or running here now, for the state API.</summary>
    public IEnumerable<TaskState> LiveTasks()
    {
        foreach (var run in _tasks.Values)
        {
            if (!run.IsReplied && !run.Forwarded && Volatile.Read(ref run.Replying) == 0)
            {
                yield return Describe(run, run.Phase switch
                {
                    TaskPhase.ResolvingArguments => TaskStates.PendingArgsAvail,
                    TaskPhase.WaitingForResources => TaskStates.PendingNodeAssignment,
                    _ => TaskStates.Running,
                }, null);
            }
        }
    }

    private TaskState Describe(TaskRun run, string state, RayErrorInfo? error) => Ended(run, state, error).ToState();

    private TaskEvents.Ended Ended(TaskRun run, string state, RayErrorInfo? error)
    {
        var spec = run.Spec;
        return new TaskEvents.Ended
        {
            TaskId = spec.TaskId, Attempt = spec.Attempt + run.LocalRetries, Name = spec.Name, Type = TaskKinds.NormalTask, State = state,
            JobId = spec.JobId, ParentTaskId = spec.ParentTaskId, NodeId = NodeRuntime.NodeId, CreationTime = run.CreationTime,
            StartTime = run.StartTime, EndTime = state is TaskStates.Finished or TaskStates.Failed ? DateTime.UtcNow : null,
            ErrorType = error?.ExceptionType, ErrorMessage = error?.Message, Retried = run.RetriedByOwner,
        };
    }

    /// <summary>
    /// Fails the task: its returns become <paramref name="error"/>. A generator's consumer reads the
    /// directory, so there the error ends the stream (its end record) and the reply is empty.
    /// </summary>
    private void Fail(TaskRun run, RayErrorInfo error)
    {
        Telemetry.RayMetrics.TaskFailed(NodeRuntime.NodeId);
        var spec = run.Spec;
        if (spec.IsGenerator)
        {
            Runtime.FailReturns(spec, error);
            Reply(run, [], error);
            return;
        }

        var value = new ObjectValue { Error = error, ProducerNode = NodeRuntime.NodeId };
        Reply(run, Enumerable.Repeat(value, Math.Max(spec.NumReturns, 1)).ToArray());
    }

    private ObjectValue[] Cancelled(TaskSpec spec)
    {
        var error = RayRuntime.CancelledError(spec.TaskId, spec.Name, NodeRuntime.NodeId);
        if (spec.IsGenerator)
        {
            Runtime.FailReturns(spec, error);
            return [];
        }

        var value = new ObjectValue { Error = error, ProducerNode = NodeRuntime.NodeId };
        return Enumerable.Repeat(value, Math.Max(spec.NumReturns, 1)).ToArray();
    }

    private enum TaskPhase : byte
    {
        ResolvingArguments,
        WaitingForResources,
        Running,
    }

    /// <summary>
    /// A task queued or running here, and its reply: a task for callers in other processes (made on first use), or a
    /// call back to its owner in this process. It is also the thread-pool work item that runs it.
    /// </summary>
    private sealed class TaskRun(TaskSpec spec, LocalScheduler scheduler) : IThreadPoolWorkItem
    {
        private ObjectValue[]? _values;
        private Exception? _failure;
        private TaskCompletionSource<ObjectValue[]>? _reply;
        private ILocalTaskOwner? _owner;
        private string? _node;
        private int _attempt;

        public TaskSpec Spec { get; } = spec;

        void IThreadPoolWorkItem.Execute() => _ = scheduler.RunAsync(this);

        /// <summary>The reply as a task, made on first use; completed inline by the thread that replies.</summary>
        public Task<ObjectValue[]> Reply
        {
            get
            {
                lock (this)
                {
                    if (_values is { } values)
                    {
                        return Task.FromResult(values);
                    }

                    if (_failure is { } failure)
                    {
                        return Task.FromException<ObjectValue[]>(failure);
                    }

                    return (_reply ??= new TaskCompletionSource<ObjectValue[]>()).Task;
                }
            }
        }

        public bool IsReplied => Volatile.Read(ref _values) is not null || Volatile.Read(ref _failure) is not null;

        /// <summary>Has the task's owner in this process called back with the reply, instead of a task.</summary>
        public void CallBack(ILocalTaskOwner owner, string node, int attempt)
        {
            _owner = owner;
            _node = node;
            _attempt = attempt;
        }

        public bool TryReply(ObjectValue[] values) => TrySet(values, null);

        public bool TryFail(Exception failure) => TrySet(null, failure);

        private bool TrySet(ObjectValue[]? values, Exception? failure)
        {
            TaskCompletionSource<ObjectValue[]>? waiting;
            lock (this)
            {
                if (_values is not null || _failure is not null)
                {
                    return false;
                }

                _values = values;
                _failure = failure;
                waiting = _reply;
            }

            if (values is not null)
            {
                waiting?.TrySetResult(values);
            }
            else
            {
                waiting?.TrySetException(failure!);
            }

            _owner?.OnTaskReply(Spec, _node!, _attempt, values, failure);
            return true;
        }

        /// <summary>When the node received it; with <see cref="StartTime"/> and <see cref="Phase"/>, what the state API shows.</summary>
        public DateTime CreationTime { get; } = DateTime.UtcNow;
        public DateTime? StartTime { get; set; }
        public TaskPhase Phase { get; set; }
        /// <summary>Runs here after its code threw a retried exception (each is an attempt of its own).</summary>
        public int LocalRetries { get; set; }

        /// <summary>Cancelled by the memory monitor with retries left: its owner runs it again.</summary>
        public bool RetriedByOwner { get; set; }
        /// <summary>Passed on to another node (spillback): that node records it.</summary>
        public bool Forwarded { get; set; }
        /// <summary>Passing it on failed (the node it went to was gone): it waits here, not passed on again.</summary>
        public bool KeepHere { get; set; }
        /// <summary>1 once a reply is being made (its end recorded, then its result set): only the first records.</summary>
        public int Replying;
        public CancellationTokenSource Cancellation { get; } = new();
        public WorkerContext? Context { get; set; }
        /// <summary>A streaming generator's backpressure window (made on first use: most tasks are not generators).</summary>
        public GeneratorWindow Window => LazyInitializer.EnsureInitialized(ref _window);
        private GeneratorWindow? _window;
        public bool InUserCode { get; set; }
        /// <summary>When its user code started (<see cref="Environment.TickCount64"/>): the memory monitor cancels the newest.</summary>
        public long StartedAt { get; set; }
        /// <summary>When it arrived here (<see cref="Telemetry.RayMetrics.QueuedTimestamp"/>), for the scheduling latency.</summary>
        public long QueuedAt { get; } = Telemetry.RayMetrics.QueuedTimestamp();
        /// <summary>Its demand waiting in a pool's queue, which the spill pass may withdraw; null while not waiting.</summary>
        public volatile NodeResources.Waiter? Spill;
        public volatile string? SpillTarget;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Passing '{Name}' ({TaskId}) on to node {Node} failed (the node is gone); it runs here.")]
    private static partial void LogSpillbackLost(ILogger logger, string name, Guid taskId, string node, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cancelling '{Name}' ({TaskId}) to free memory: {Why}.")]
    private static partial void LogMemoryKill(ILogger logger, string name, Guid taskId, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cancelling '{Name}' ({TaskId}), force={Force}, recursive={Recursive}.")]
    private static partial void LogCancel(ILogger logger, string name, Guid taskId, bool force, bool recursive);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task '{Name}' ({TaskId}) threw; retry {Attempt} of {MaxRetries}.")]
    private static partial void LogRetry(ILogger logger, string name, Guid taskId, int attempt, int maxRetries, Exception exception);
}
