using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// Work this process holds back because no node of the cluster can ever run it, as Ray keeps infeasible
/// tasks pending: each demand is logged once (with the largest node), reported to the cluster status
/// (<see cref="IClusterResourcesGrain.ReportInfeasibleAsync"/>), and the work is sent as soon as a node
/// that can hold it is in the view, checked every second. A get of its result with a timeout says why it waits.
/// </summary>
internal sealed partial class InfeasibleWork : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private const int ReportEveryTicks = 5;

    private readonly RayRuntime _runtime;
    private readonly ILogger _logger;
    private readonly string _reporter;
    private readonly ConcurrentDictionary<Guid, (TaskSpec Spec, int Attempt)> _tasks = new();
    private readonly ConcurrentDictionary<ActorId, (ActorSpec Spec, TaskCompletionSource<string> Node)> _actors = new();
    private readonly ConcurrentDictionary<string, byte> _logged = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _started;
    private bool _reported;

    public InfeasibleWork(RayRuntime runtime, ILogger logger)
    {
        _runtime = runtime;
        _logger = logger;
        _reporter = runtime.LocalNodeId ?? $"driver:{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    }

    public int Count => _tasks.Count + _actors.Count;

    /// <summary>Holds a task until a node that can run it joins.</summary>
    public void Park(TaskSpec spec, int attempt)
    {
        _tasks[spec.TaskId] = (spec, attempt);
        LogOnce(spec.Resources, spec.Strategy, $"task '{spec.Name}'");
        Start();
    }

    /// <summary>Completes with a node for the actor once one that can hold it joins.</summary>
    public Task<string> ParkActor(ActorSpec spec)
    {
        var node = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _actors[spec.ActorId] = (spec, node);
        LogOnce(spec.Resources, spec.Strategy, $"actor {spec.ClassName}");
        Start();
        return node.Task;
    }

    /// <summary>Why a task's result is not ready, when the task is held here; null otherwise.</summary>
    public string? Why(Guid taskId) =>
        _tasks.TryGetValue(taskId, out var parked)
            ? $"task '{parked.Spec.Name}' is infeasible: {_runtime.Cluster.DescribeInfeasible(parked.Spec.Resources, parked.Spec.Strategy)}; it waits until a node that can run it joins."
            : null;

    private void LogOnce(ResourceSet demand, SchedulingStrategy? strategy, string what)
    {
        if (_logged.TryAdd(demand + " " + strategy, 0))
        {
            LogInfeasible(_logger, what, demand, _runtime.Cluster.DescribeInfeasible(demand, strategy));
        }
    }

    private void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _loop = Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        WorkerContext.Leave();
        using var timer = new PeriodicTimer(Tick);
        var ticks = 0;
        try
        {
            // The first report goes at once, so the status shows the demand without waiting for a tick.
            await ReportAsync().ConfigureAwait(false);
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var changed = Retry();
                    if (changed || ++ticks % ReportEveryTicks == 0)
                    {
                        await ReportAsync().ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    LogTickFailed(_logger, e); // the next tick tries again; parked work must not be forgotten
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends what a node can now hold; true when anything left.</summary>
    private bool Retry()
    {
        var changed = false;
        foreach (var (id, parked) in _tasks)
        {
            if (_runtime.InFlight.AttemptOf(id) < 0)
            {
                changed |= _tasks.TryRemove(id, out _); // cancelled while it waited
            }
            else if (_runtime.Cluster.Pick(parked.Spec.Resources, parked.Spec.Strategy, _runtime.LocalNodeId, forActor: false) is not null && _tasks.TryRemove(id, out _))
            {
                changed = true;
                _runtime.Dispatch(parked.Spec, parked.Attempt);
            }
        }

        foreach (var (id, parked) in _actors)
        {
            if (_runtime.Cluster.Pick(parked.Spec.Resources, parked.Spec.Strategy, preferred: null, forActor: true) is { } node && _actors.TryRemove(id, out _))
            {
                changed = true;
                parked.Node.TrySetResult(node);
            }
        }

        return changed;
    }

    private async Task ReportAsync()
    {
        var demands = _tasks.Values.Select(t => (t.Spec.Resources, t.Spec.Name))
            .Concat(_actors.Values.Select(a => (a.Spec.Resources, a.Spec.ClassName)))
            .GroupBy(d => d.Resources.ToString())
            .Select(g => new DemandSummary { Demand = g.First().Resources, Count = g.Count(), Example = g.First().Item2 })
            .ToArray();
        if (demands.Length == 0 && !_reported)
        {
            return;
        }

        try
        {
            await _runtime.Grains.GetGrain<IClusterResourcesGrain>(0).ReportInfeasibleAsync(_reporter, demands).ConfigureAwait(false);
            _reported = demands.Length > 0;
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or ObjectDisposedException)
        {
            // The next report carries the same; the status only lags.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retrying infeasible work failed; the next tick tries again.")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Infeasible: {What} needs {Demand}, and {Why}. It waits until a node that can hold it joins.")]
    private static partial void LogInfeasible(ILogger logger, string what, ResourceSet demand, string why);
}
