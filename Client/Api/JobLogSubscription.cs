using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Logs;

/// <summary>
/// A driver's end of its job's output: an observer subscribed to the job's log grain, renewed every minute
/// (subscriptions lapse after five), that hands each line to the driver's printer.
/// </summary>
internal sealed class JobLogSubscription : IJobLogObserver, IAsyncDisposable
{
    private static readonly TimeSpan Renewal = TimeSpan.FromMinutes(1);

    private readonly IGrainFactory _grains;
    private readonly IJobLogGrain _log;
    private readonly Action<LogLine> _print;
    private readonly CancellationTokenSource _stop = new();
    private IJobLogObserver? _reference;
    private Task? _renewing;

    public JobLogSubscription(IGrainFactory grains, string jobId, Action<LogLine> print, ILoggerFactory? loggers)
    {
        _grains = grains;
        _log = grains.GetGrain<IJobLogGrain>(jobId);
        _print = print;
        Fallback = loggers;
    }

    /// <summary>Where <c>Ray.GetLogger</c> logs outside tasks.</summary>
    public ILoggerFactory? Fallback { get; }

    public async Task StartAsync()
    {
        _reference = _grains.CreateObjectReference<IJobLogObserver>(this);
        await _log.SubscribeAsync(_reference).ConfigureAwait(false);
        _renewing = RenewAsync();
    }

    public Task OnLinesAsync(LogLine[] lines)
    {
        foreach (var line in lines)
        {
            try
            {
                _print(line);
            }
            catch (Exception)
            {
                // A printer that throws loses its line, not the subscription.
            }
        }

        return Task.CompletedTask;
    }

    private async Task RenewAsync()
    {
        WorkerContext.Leave();
        using var timer = new PeriodicTimer(Renewal);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await _log.SubscribeAsync(_reference!).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    // The grain's silo may be failing over: the next renewal subscribes again.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_renewing is not null)
        {
            await _renewing.ConfigureAwait(false);
        }

        if (_reference is not null)
        {
            try
            {
                await _log.UnsubscribeAsync(_reference).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
            }

            _grains.DeleteObjectReference<IJobLogObserver>(_reference);
        }
    }
}
