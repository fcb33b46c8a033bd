using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;
using RayOrleans.Runtime;

namespace RayOrleans.Jobs;

/// <summary>
/// Tracks drivers by heartbeat (see <see cref="IJobRegistryGrain"/>). A lost driver's non-detached actors are
/// killed, as Ray kills a job's actors when its driver exits, and every node is told the job ended, so its
/// shipped code is unloaded.
/// Placed off draining nodes; a drain migrates it with its drivers and ended jobs.
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed partial class JobRegistryGrain : Grain, IJobRegistryGrain, IGrainMigrationParticipant
{
    private const int KeptEnded = 1000;

    private readonly Dictionary<string, (DriverJob Job, DateTime LastSeen)> _running = new(StringComparer.Ordinal);
    private readonly Queue<DriverJob> _ended = new();
    private readonly RuntimeOptions _options;
    private readonly ILogger<JobRegistryGrain> _logger;
    private readonly ClusterStateActivations _stateGrains;
    private IGrainTimer? _check;

    public JobRegistryGrain(IOptions<RuntimeOptions> options, ClusterStateActivations stateGrains, ILogger<JobRegistryGrain> logger)
    {
        _options = options.Value;
        _stateGrains = stateGrains;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stateGrains.Add(GrainContext);
        if (_running.Count > 0)
        {
            // Migrated with running drivers: their heartbeats are checked here from now on.
            var interval = _options.DriverHeartbeatInterval;
            _check ??= this.RegisterGrainTimer(CheckAsync, new GrainTimerCreationOptions(interval, interval) { Interleave = true });
        }

        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext context)
    {
        context.TryAddValue("running", _running.Values.Select(r => r.Job).ToArray());
        context.TryAddValue("seen", _running.Values.Select(r => r.LastSeen).ToArray());
        context.TryAddValue("ended", _ended.ToArray());
    }

    public void OnRehydrate(IRehydrationContext context)
    {
        if (context.TryGetValue("running", out DriverJob[]? running) && running is not null && context.TryGetValue("seen", out DateTime[]? seen) && seen is not null)
        {
            for (var i = 0; i < running.Length && i < seen.Length; i++)
            {
                _running[running[i].JobId] = (running[i], seen[i]);
            }
        }

        if (context.TryGetValue("ended", out DriverJob[]? ended) && ended is not null)
        {
            foreach (var job in ended)
            {
                _ended.Enqueue(job);
            }
        }
    }

    public Task RegisterAsync(DriverJob driver)
    {
        _running[driver.JobId] = (driver with { Status = "RUNNING" }, DateTime.UtcNow);
        var interval = _options.DriverHeartbeatInterval;
        _check ??= this.RegisterGrainTimer(CheckAsync, new GrainTimerCreationOptions(interval, interval) { Interleave = true });
        return Task.CompletedTask;
    }

    public Task<bool> HeartbeatAsync(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var entry))
        {
            return Task.FromResult(false);
        }

        _running[jobId] = (entry.Job, DateTime.UtcNow);
        return Task.FromResult(true);
    }

    public async Task ExitedAsync(string jobId)
    {
        if (_running.Remove(jobId, out var entry))
        {
            End(entry.Job with { Status = "SUCCEEDED", EndTime = DateTime.UtcNow });
            await TellNodesAsync(jobId);
        }
    }

    public async Task<int> StopAsync(string jobId, string reason)
    {
        if (_running.Remove(jobId, out var entry))
        {
            End(entry.Job with { Status = "STOPPED", EndTime = DateTime.UtcNow, Message = reason });
        }

        return await CleanUpAsync(jobId, reason);
    }

    public Task<DriverJob[]> ListAsync() =>
        Task.FromResult(_running.Values.Select(r => r.Job).OrderBy(j => j.StartTime).Concat(_ended.Reverse()).ToArray());

    private async Task CheckAsync()
    {
        var deadline = DateTime.UtcNow - _options.DriverTimeout;
        foreach (var (jobId, (job, lastSeen)) in _running.Where(r => r.Value.LastSeen < deadline).ToList())
        {
            _running.Remove(jobId);
            var why = $"the driver (pid {job.Pid} on {job.Host}) sent no heartbeat for {_options.DriverTimeout.TotalSeconds:0} s";
            LogLost(_logger, jobId, why);
            End(job with { Status = "FAILED", EndTime = DateTime.UtcNow, Message = why });
            await CleanUpAsync(jobId, why);
        }
    }

    /// <summary>Kills the lost job's non-detached actors, then tells the nodes the job ended.</summary>
    private async Task<int> CleanUpAsync(string jobId, string why)
    {
        try
        {
            var nodes = await NodesAsync();
            var actors = await ClusterState.ListActorsAsync(GrainFactory, nodes, new ActorQuery { JobId = jobId, Limit = 100_000 });
            var owned = actors.Where(a => !a.Detached && a.State != "DEAD").ToList();
            await Task.WhenAll(owned.Select(a => GrainFactory.GetGrain<IActorGrain>(a.ActorId.Value).FailAsync($"Actor {a.ClassName} ({a.ActorId}) was killed: its job's driver is gone ({why}).")));
            LogCleaned(_logger, jobId, owned.Count);
            await TellNodesAsync(jobId, nodes);
            return owned.Count;
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogCleanupFailed(_logger, jobId, e.Message);
            return 0;
        }
    }

    private async Task TellNodesAsync(string jobId, string[]? nodes = null)
    {
        foreach (var node in nodes ?? await NodesAsync())
        {
            await GrainFactory.GetGrain<INodeGrain>(node).JobEndedAsync(jobId);
        }
    }

    private async Task<string[]> NodesAsync() =>
        (await GrainFactory.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync()).Select(n => n.NodeId).ToArray();

    private void End(DriverJob job)
    {
        _ended.Enqueue(job);
        while (_ended.Count > KeptEnded)
        {
            _ended.Dequeue();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} lost its driver: {Why}. Killing its non-detached actors.")]
    private static partial void LogLost(ILogger logger, string jobId, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: killed {Count} non-detached actors of its ended driver.")]
    private static partial void LogCleaned(ILogger logger, string jobId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: cleaning up after its lost driver failed ({Reason}); its actors may live on.")]
    private static partial void LogCleanupFailed(ILogger logger, string jobId, string reason);
}
