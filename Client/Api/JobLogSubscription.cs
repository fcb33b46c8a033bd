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
    private readonly Func<IEnumerable<string>> _nodes;
    private readonly object _gate = new();
    private IJobLogObserver? _reference;
    private Task? _renewing;
    private long _next;
    private Guid _epoch;
    /// <summary>Line numbers below <see cref="_next"/> not printed yet, as [start, end) ranges (batches that came late, or never).</summary>
    private readonly List<(long Start, long End)> _gaps = [];

    public JobLogSubscription(IGrainFactory grains, string jobId, Action<LogLine> print, ILoggerFactory? loggers, Func<IEnumerable<string>> nodes)
    {
        _grains = grains;
        _nodes = nodes;
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

    public Task OnLinesAsync(LogLine[] lines, long sequence, Guid epoch)
    {
        lock (_gate)
        {
            if (epoch != _epoch)
            {
                // The grain started again (its silo died): its numbering starts again too.
                _epoch = epoch;
                _next = 0;
                _gaps.Clear();
            }

            // Lines are numbered by the grain. Orleans does not keep one-way messages in order, so a batch may
            // come after a later one: the numbers it skipped are remembered as a gap and printed when they come
            // (or fetched at exit); numbers already printed are skipped (the exit's catch-up may have fetched them).
            if (sequence > _next)
            {
                _gaps.Add((_next, sequence));
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var number = sequence + i;
                if (number >= _next || TakeFromGaps(number))
                {
                    try
                    {
                        _print(lines[i]);
                    }
                    catch (Exception)
                    {
                        // A printer that throws loses its line, not the subscription.
                    }
                }
            }

            _next = Math.Max(_next, sequence + lines.Length);
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether <paramref name="number"/> was missing (a gap), removing it from there. Under _gate.</summary>
    private bool TakeFromGaps(long number)
    {
        for (var g = 0; g < _gaps.Count; g++)
        {
            var (start, end) = _gaps[g];
            if (number < start || number >= end)
            {
                continue;
            }

            _gaps.RemoveAt(g);
            if (number + 1 < end)
            {
                _gaps.Insert(g, (number + 1, end));
            }

            if (start < number)
            {
                _gaps.Insert(g, (start, number));
            }

            return true;
        }

        return false;
    }

    /// <summary>
    /// Prints what the job's tasks wrote and the driver has not been sent yet: the nodes send what they hold, then
    /// the lines after the last one printed are read from the grain. Called as the driver exits.
    /// </summary>
    private async Task CatchUpAsync()
    {
        await Task.WhenAll(_nodes().Select(node => _grains.GetGrain<INodeGrain>(node).FlushTaskLogsAsync())).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        long next;
        Guid epoch;
        lock (_gate)
        {
            (next, epoch) = (_next, _epoch);
        }

        var rest = await _log.SinceAsync(next, 100_000).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (rest.Epoch != epoch && next > 0)
        {
            rest = await _log.SinceAsync(0, 100_000).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); // a new activation: all it has is new
        }

        await OnLinesAsync(rest.Lines, rest.FirstSequence, rest.Epoch).ConfigureAwait(false);

        // Batches that never came: read from what the grain keeps.
        List<(long Start, long End)> gaps;
        lock (_gate)
        {
            gaps = rest.Epoch == _epoch ? [.. _gaps] : [];
        }

        foreach (var (start, end) in gaps)
        {
            var missed = await _log.SinceAsync(start, (int)Math.Min(end - start, 100_000)).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await OnLinesAsync(missed.Lines, missed.FirstSequence, missed.Epoch).ConfigureAwait(false);
        }
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
                await CatchUpAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // Exiting regardless: lines not yet printed stay readable with JobLogsAsync.
            }

            _grains.DeleteObjectReference<IJobLogObserver>(_reference);
        }
    }
}
