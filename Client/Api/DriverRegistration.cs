using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Jobs;

/// <summary>
/// A driver's presence in the cluster's job registry: registered at connect, a heartbeat every
/// <see cref="RuntimeOptions.DriverHeartbeatInterval"/> (registering again when the registry lost it), and a
/// clean exit at dispose. A driver that dies stops the heartbeat, and the cluster cleans up after it.
/// </summary>
internal sealed class DriverRegistration : IAsyncDisposable
{
    private readonly IJobRegistryGrain _registry;
    private readonly DriverJob _job;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private Task? _beating;

    public DriverRegistration(IGrainFactory grains, string jobId, TimeSpan interval, IObjectOwner? owner)
    {
        _registry = grains.GetGrain<IJobRegistryGrain>(0);
        _interval = interval;
        _job = new DriverJob
        {
            JobId = jobId, Status = "RUNNING", Host = Environment.MachineName, Pid = Environment.ProcessId, Entrypoint = Environment.CommandLine,
            StartTime = DateTime.UtcNow, Owner = owner,
        };
    }

    public async Task StartAsync()
    {
        await TransientRetry.ReadAsync(async () =>
        {
            await _registry.RegisterAsync(_job).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        _beating = BeatAsync();
    }

    private async Task BeatAsync()
    {
        WorkerContext.Leave();
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    if (!await _registry.HeartbeatAsync(_job.JobId).ConfigureAwait(false))
                    {
                        await _registry.RegisterAsync(_job).ConfigureAwait(false); // the registry moved and forgot us
                    }
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    // Failing over: the next beat tries again, well within the timeout.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the heartbeat without telling the cluster (the driver is being dropped as if it crashed).</summary>
    public async Task AbandonAsync()
    {
        _stop.Cancel();
        if (_beating is not null)
        {
            await _beating.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await AbandonAsync().ConfigureAwait(false);
        try
        {
            await _registry.ExitedAsync(_job.JobId).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // The cluster declares it lost after the timeout instead.
        }
    }
}
