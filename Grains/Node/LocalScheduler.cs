using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RayOrleans.Functions;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Node;

/// <summary>
/// This node's task queue and workers (Ray's raylet plus its worker pool, in one process). A task first
/// waits for its ref arguments without holding resources, then for its resources, then runs on the .NET
/// thread pool with a <see cref="WorkerContext"/>, and publishes its returns to the directory.
/// </summary>
internal sealed partial class LocalScheduler
{
    private const int TombstoneLimit = 10_000;
    private static readonly TimeSpan SpillPassInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<Guid, TaskRun> _tasks = new();
    private readonly ConcurrentDictionary<Guid, byte> _cancelledEarly = new();
    private readonly ConcurrentQueue<Guid> _tombstoneOrder = new();
    private readonly ILogger<LocalScheduler> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _spillPassStarted;
    private int _running;
    private int _actors;

    public LocalScheduler(NodeResources resources, NodeRuntime node, ILogger<LocalScheduler> logger)
    {
        Resources = resources;
        NodeRuntime = node;
        _logger = logger;
    }

    public NodeResources Resources { get; }

    public NodeRuntime NodeRuntime { get; }

    private RayRuntime Runtime => NodeRuntime.Runtime;

    public int Queued => _tasks.Count - Volatile.Read(ref _running);

    public int Running => Volatile.Read(ref _running);

    public int Actors => Volatile.Read(ref _actors);

    public void ActorStarted() => Interlocked.Increment(ref _actors);

    public void ActorStopped() => Interlocked.Decrement(ref _actors);

    public void Enqueue(TaskSpec spec)
    {
        if (_cancelledEarly.TryRemove(spec.TaskId, out _))
        {
            _ = PublishCancelledAsync(spec);
            return;
        }

        var run = new TaskRun(spec);
        if (!_tasks.TryAdd(spec.TaskId, run))
        {
            return; // a duplicate delivery of a task already here
        }

        // Leave the node grain's scheduler at once: user code runs on the thread pool.
        _ = Task.Run(() => RunAsync(run));
    }

    public bool Cancel(Guid taskId, bool force, bool recursive)
    {
        if (!_tasks.TryGetValue(taskId, out var run))
        {
            // The cancel may overtake the task on its way here; remember it for a while.
            if (_cancelledEarly.TryAdd(taskId, 0))
            {
                _tombstoneOrder.Enqueue(taskId);
                while (_tombstoneOrder.Count > TombstoneLimit && _tombstoneOrder.TryDequeue(out var old))
                {
                    _cancelledEarly.TryRemove(old, out _);
                }
            }

            return false;
        }

        LogCancel(_logger, run.Spec.Name, taskId, force, recursive);
        // The cancelled error is published first, so it is what every get sees even if the code finishes
        // anyway. With force, the node also stops waiting for the code; .NET cannot abort a thread, so the
        // task's resources stay held until its code returns, and nothing is ever over-committed.
        _ = PublishCancelledAsync(run.Spec);
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

    public Guid[] FilterKnown(Guid[] taskIds) => taskIds.Where(_tasks.ContainsKey).ToArray();

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
        try
        {
            var invoker = FunctionInvoker.Get(spec.Function);
            if (invoker.ArgumentTypes.Length != spec.Args.Length)
            {
                throw new ArgumentException($"'{spec.Name}' takes {invoker.ArgumentTypes.Length} arguments but the task carries {spec.Args.Length}.");
            }

            var args = await ResolveArgumentsAsync(spec.Args, invoker.ArgumentTypes, token).ConfigureAwait(false);
            if (!Resources.IsFeasible(spec.Resources))
            {
                await Runtime.PublishErrorAsync(spec.TaskId, spec.NumReturns, spec.IsGenerator, RayRuntime.SystemError(spec.TaskId, spec.Name,
                    "RayOrleans.InfeasibleTask", $"Task '{spec.Name}' needs {spec.Resources} but node {NodeRuntime.NodeId} has {Resources.Total} in all.")).ConfigureAwait(false);
                return;
            }

            token.ThrowIfCancellationRequested();
            if (await AcquireOrSpillAsync(run, token).ConfigureAwait(false) is { } other)
            {
                // Busy here, free there: pass the task on once rather than queue it (Ray's spillback).
                // Its arguments are resolved there again, from wherever they live.
                _tasks.TryRemove(spec.TaskId, out _);
                Runtime.SubmitTo(spec with { Spillbacks = 1 }, other);
                return;
            }

            for (var attempt = 0; ; attempt++)
            {
                if (attempt > 0)
                {
                    await Resources.AcquireAsync(spec.Resources, priority: false, token).ConfigureAwait(false);
                }

                Interlocked.Increment(ref _running);
                try
                {
                    var ctx = new WorkerContext(spec.TaskId, spec.Name, Runtime, token, Resources, spec.Resources);
                    run.Context = ctx;
                    await ExecuteAsync(run, invoker, args, ctx).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (!token.IsCancellationRequested && spec.RetryExceptions && attempt < spec.MaxRetries && e is not RaySerializationException)
                {
                    LogRetry(_logger, spec.Name, spec.TaskId, attempt + 1, spec.MaxRetries, e);
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                    Resources.Release(spec.Resources);
                }
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            await PublishCancelledAsync(spec).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var error = RayRuntime.DescribeFailure(e, run.InUserCode, spec.Name, spec.TaskId, NodeRuntime.NodeId);
            await Runtime.PublishErrorAsync(spec.TaskId, spec.NumReturns, spec.IsGenerator, error).ConfigureAwait(false);
        }
        finally
        {
            _tasks.TryRemove(spec.TaskId, out _);
        }
    }

    /// <summary>
    /// Takes the task's resources here, or names another node to pass it to: at once when this node is
    /// busy and another reports room, or later while it waits, when the spill pass finds room elsewhere.
    /// A task already passed on once waits here.
    /// </summary>
    private async Task<string?> AcquireOrSpillAsync(TaskRun run, CancellationToken token)
    {
        var spec = run.Spec;
        if (spec.Spillbacks > 0)
        {
            await Resources.AcquireAsync(spec.Resources, priority: false, token).ConfigureAwait(false);
            return null;
        }

        if (!Resources.CanAcquireNow(spec.Resources) && NodeRuntime.Cluster.PickSpillback(spec.Resources, NodeRuntime.NodeId) is { } now)
        {
            return now;
        }

        using var spill = CancellationTokenSource.CreateLinkedTokenSource(token);
        run.Spill = spill;
        try
        {
            EnsureSpillPass();
            await Resources.AcquireAsync(spec.Resources, priority: false, spill.Token).ConfigureAwait(false);
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
                    try
                    {
                        spill.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // It got its resources here meanwhile.
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
    public async Task<object?[]> ResolveArgumentsAsync(TaskArg[] args, Type[] types, CancellationToken token)
    {
        var values = new object?[args.Length];
        List<Task>? pending = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.Value is { } bytes)
            {
                values[i] = Runtime.Serializer.Deserialize(bytes, types[i]);
            }
            else if (arg.Ref is { } id)
            {
                var index = i;
                (pending ??= []).Add(Runtime.GetAsync(id, types[i], null, token).ContinueWith(
                    t => values[index] = t.GetAwaiter().GetResult(), token, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
            }
        }

        if (pending is not null)
        {
            await Task.WhenAll(pending).ConfigureAwait(false);
        }

        return values;
    }

    private async Task ExecuteAsync(TaskRun run, FunctionInvoker invoker, object?[] args, WorkerContext ctx)
    {
        var spec = run.Spec;
        ctx.Enter();
        run.InUserCode = true;
        var returned = invoker.Invoke(null, args, ctx.Cancellation);
        switch (invoker.ReturnKind)
        {
            case ReturnKind.Stream:
                await StreamAsync(run, invoker, returned, ctx.Cancellation).ConfigureAwait(false);
                return;
            case ReturnKind.Awaitable:
                returned = await invoker.Adapter.AwaitAsync(returned).ConfigureAwait(false);
                break;
        }

        await PublishReturnsAsync(Runtime, spec.TaskId, spec.NumReturns, invoker.ResultType, returned).ConfigureAwait(false);
    }

    /// <summary>Publishes a result, split into its tuple items when the task has several returns.</summary>
    public static async Task PublishReturnsAsync(RayRuntime runtime, Guid taskId, int numReturns, Type resultType, object? result)
    {
        if (numReturns <= 1)
        {
            await runtime.PublishValueAsync(new ObjectId(taskId, 1), runtime.Serializer.Serialize(result, resultType)).ConfigureAwait(false);
            return;
        }

        if (result is not ITuple tuple || tuple.Length != numReturns)
        {
            throw new InvalidOperationException($"A task with NumReturns = {numReturns} must return a tuple of {numReturns} items; it returned {result?.GetType().Name ?? "null"}.");
        }

        var itemTypes = resultType.GetGenericArguments();
        var publishes = new Task[numReturns];
        for (var i = 0; i < numReturns; i++)
        {
            publishes[i] = runtime.PublishValueAsync(new ObjectId(taskId, i + 1), runtime.Serializer.Serialize(tuple[i], itemTypes[i]));
        }

        await Task.WhenAll(publishes).ConfigureAwait(false);
    }

    private async Task StreamAsync(TaskRun run, FunctionInvoker invoker, object? returned, CancellationToken token)
    {
        var spec = run.Spec;
        var count = 0;
        await foreach (var item in invoker.Adapter.Enumerate(returned, token).ConfigureAwait(false))
        {
            count++;
            await Runtime.PublishValueAsync(new ObjectId(spec.TaskId, count), Runtime.Serializer.Serialize(item, invoker.ResultType)).ConfigureAwait(false);
            if (spec.GeneratorBackpressure > 0)
            {
                // Pause the producer while too many yielded values wait unconsumed.
                await run.Window.WaitUntilAsync(count - spec.GeneratorBackpressure, token).ConfigureAwait(false);
            }
        }

        await Runtime.PublishValueAsync(new ObjectId(spec.TaskId, 0), Runtime.Serializer.Serialize(null, typeof(object)), generatorCount: count).ConfigureAwait(false);
    }

    private Task PublishCancelledAsync(TaskSpec spec) =>
        Runtime.PublishErrorAsync(spec.TaskId, spec.NumReturns, spec.IsGenerator, new RayErrorInfo
        {
            Kind = RayErrorKind.Cancelled, ExceptionType = typeof(TaskCancelledException).FullName!,
            Message = $"Task '{spec.Name}' ({spec.TaskId:N}) was cancelled.", TaskName = spec.Name, TaskId = spec.TaskId, Node = NodeRuntime.NodeId,
        });

    private sealed class TaskRun(TaskSpec spec)
    {
        public TaskSpec Spec { get; } = spec;
        public CancellationTokenSource Cancellation { get; } = new();
        public WorkerContext? Context { get; set; }
        public GeneratorWindow Window { get; } = new();
        public bool InUserCode { get; set; }
        public volatile CancellationTokenSource? Spill;
        public volatile string? SpillTarget;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cancelling '{Name}' ({TaskId}), force={Force}, recursive={Recursive}.")]
    private static partial void LogCancel(ILogger logger, string name, Guid taskId, bool force, bool recursive);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task '{Name}' ({TaskId}) threw; retry {Attempt} of {MaxRetries}.")]
    private static partial void LogRetry(ILogger logger, string name, Guid taskId, int attempt, int maxRetries, Exception exception);
}
