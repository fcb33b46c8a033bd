using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RayOrleans.Autoscaler.Providers;

namespace RayOrleans.Autoscaler;

/// <summary>
/// Runs <see cref="ClusterAutoscaler"/> rounds every <see cref="AutoscalerOptions.PollInterval"/> for as long as the
/// host runs (inside the head silo with <c>--autoscaler-config</c>). When the host stops, the provider is disposed:
/// the local provider stops the silo processes it started (they run on this machine, as <c>rayo stop</c> expects),
/// the Kubernetes provider leaves the worker pools as they are.
/// </summary>
internal sealed partial class AutoscalerService(ClusterAutoscaler autoscaler, INodeProvider provider, AutoscalerOptions options, ILogger<AutoscalerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, provider.Name, string.Join(", ", options.NodeTypes.Select(t => $"{t.Name} {t.ToNodeType().Resources} x {t.MinWorkers}..{t.MaxWorkers}")),
            options.IdleTimeout.TotalSeconds);
        using var timer = new PeriodicTimer(options.PollInterval);
        try
        {
            do
            {
                await autoscaler.RunOnceAsync(DateTime.UtcNow, stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await provider.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Autoscaler started: provider {Provider}, node types {NodeTypes}, idle timeout {IdleTimeoutSeconds} s.")]
    private static partial void LogStarted(ILogger logger, string provider, string nodeTypes, double idleTimeoutSeconds);
}
