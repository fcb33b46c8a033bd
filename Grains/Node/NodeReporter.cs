using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>
/// Publishes this node's resources and load to the cluster view every second, and takes the node out of
/// the view when the silo stops, so drivers stop sending it work.
/// </summary>
internal sealed partial class NodeReporter : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly NodeRuntime _node;
    private readonly LocalScheduler _scheduler;
    private readonly IGrainFactory _grains;
    private readonly ILogger<NodeReporter> _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    private readonly Dictionary<string, string> _labels;

    public NodeReporter(NodeRuntime node, LocalScheduler scheduler, IGrainFactory grains, Microsoft.Extensions.Options.IOptions<NodeOptions> options, ILogger<NodeReporter> logger)
    {
        _labels = new Dictionary<string, string>(options.Value.Labels, StringComparer.Ordinal);
        _node = node;
        _scheduler = scheduler;
        _grains = grains;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(NodeReporter), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    public NodeReport CreateReport() => new()
    {
        NodeId = _node.NodeId, Total = _scheduler.Resources.Total, Available = _scheduler.Resources.Available,
        Queued = _scheduler.Queued, Running = _scheduler.Running, Actors = _scheduler.Actors, Timestamp = DateTime.UtcNow,
        ObjectStoreUsed = _node.Runtime.LocalStore?.Used ?? 0, ObjectStorePooled = _node.Runtime.LocalStore?.Pooled ?? 0,
        ObjectStoreCapacity = _node.Runtime.LocalStore?.Capacity ?? 0, ObjectCount = _node.Runtime.LocalStore?.Count ?? 0,
        ObjectStoreFolder = _node.Runtime.LocalStore?.Folder, HostId = NodeObjectStore.HostId,
        Pending = _scheduler.Resources.Waiting(), Labels = _labels, Draining = _node.Draining,
    };

    /// <summary>Publishes a report now, off the caller's path (after a big change such as a bundle reservation).</summary>
    public void ReportSoon()
    {
        if (_loop is null || _stop.IsCancellationRequested)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await _grains.GetGrain<IClusterResourcesGrain>(0).ReportAsync(CreateReport()).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogReportFailed(_logger, e);
            }
        });
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        // Report before the silo counts as started, so a driver that connects next already sees this node.
        await _grains.GetGrain<IClusterResourcesGrain>(0).ReportAsync(CreateReport()).ConfigureAwait(false);
        await _node.Cluster.RefreshAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _node.Cluster.Start();
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await _grains.GetGrain<IClusterResourcesGrain>(0).ReportAsync(CreateReport()).ConfigureAwait(false);
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    LogReportFailed(_logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        try
        {
            await _grains.GetGrain<IClusterResourcesGrain>(0).RemoveNodeAsync(_node.NodeId).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The view drops nodes that stop reporting, so a failed goodbye only delays that.
            LogReportFailed(_logger, e);
        }

        _scheduler.Stop();
        await _node.Runtime.StopAsync().ConfigureAwait(false);
        await _node.Cluster.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Publishing this node's report failed.")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
