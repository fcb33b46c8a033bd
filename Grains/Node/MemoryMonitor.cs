using Microsoft.Extensions.Logging;

namespace RayOrleans.Node;

/// <summary>
/// Ray's memory monitor for a node: every <see cref="NodeOptions.MemoryMonitorInterval"/> it reads the
/// machine's memory use (<see cref="MemoryUsage"/>). Above <see cref="NodeOptions.MemoryUsageThreshold"/> the
/// node starts no more tasks (they wait in its queue) until use falls below it again; if use stays above after
/// a full garbage collection, it cancels the newest running task that may be retried, whose owner runs it again
/// (elsewhere, if another node has room), rather than let the operating system kill the whole node. Tasks are
/// .NET code in the node's process and cannot be aborted: the cancelled task's memory comes back when its code
/// returns (at once if it watches its CancellationToken), and its result is the failure from the moment it is
/// chosen. One task is chosen per <see cref="KillPause"/>, so the first one's memory can come back first.
/// </summary>
internal sealed partial class MemoryMonitor : IAsyncDisposable
{
    /// <summary>The least time between two cancellations.</summary>
    public static readonly TimeSpan KillPause = TimeSpan.FromSeconds(1);

    private readonly double _threshold;
    private readonly TimeSpan _interval;
    private readonly Func<string, bool> _killNewest;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _loop;
    private TaskCompletionSource _relieved = NewRelief();
    private volatile bool _underPressure;
    private long _lastKill;
    private long _lastCollect;

    /// <param name="threshold">Fraction of memory in use above which the node is under pressure (1 or more: off).</param>
    /// <param name="interval">How often to read memory use (zero: off).</param>
    /// <param name="killNewest">Cancels the newest retryable running task with the reason given; false when there is none.</param>
    /// <param name="logger">Where pressure, relief and cancellations are logged.</param>
    public MemoryMonitor(double threshold, TimeSpan interval, Func<string, bool> killNewest, ILogger logger)
    {
        _threshold = threshold;
        _interval = interval;
        _killNewest = killNewest;
        _logger = logger;
        if (threshold < 1 && interval > TimeSpan.Zero && MemoryUsage.Read() is not null)
        {
            _loop = Task.Run(LoopAsync);
        }
    }

    /// <summary>Whether memory use is above the threshold now: no task starts until it falls again.</summary>
    public bool UnderPressure => _underPressure;

    /// <summary>Completes when memory use is below the threshold (at once when it is).</summary>
    public Task WhenRelievedAsync(CancellationToken cancellationToken) =>
        _underPressure ? Volatile.Read(ref _relieved).Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Reads memory use once and acts on it (the loop's step; tests call it to act at once).</summary>
    public void Check()
    {
        if (MemoryUsage.Read() is not { } usage)
        {
            return;
        }

        var fraction = (double)usage.Used / usage.Total;
        if (fraction < _threshold)
        {
            if (_underPressure)
            {
                _underPressure = false;
                LogRelieved(_logger, fraction * 100, _threshold * 100);
                Interlocked.Exchange(ref _relieved, NewRelief()).TrySetResult();
            }

            return;
        }

        if (!_underPressure)
        {
            _underPressure = true;
            LogPressure(_logger, fraction * 100, _threshold * 100, usage.Used >> 20, usage.Total >> 20);
        }

        var now = Environment.TickCount64;
        if (now - _lastCollect >= (long)KillPause.TotalMilliseconds)
        {
            // Garbage first: a full, compacting collection gives back what no task still uses.
            _lastCollect = now;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            return;
        }

        if (now - _lastKill < (long)KillPause.TotalMilliseconds)
        {
            return;
        }

        var why = $"memory use on this node is {fraction:P0} ({usage.Used >> 20:N0} of {usage.Total >> 20:N0} MiB), above the memory monitor's " +
                  $"threshold of {_threshold:P0} (NodeOptions.MemoryUsageThreshold), so the newest retryable task was cancelled to keep the node alive";
        if (_killNewest(why))
        {
            _lastKill = now;
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Check();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TaskCompletionSource NewRelief() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
        _relieved.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Memory use {Percent:F0}% is above the memory monitor's threshold {Threshold:F0}% ({Used} of {Total} MiB): this node starts no new tasks until it falls.")]
    private static partial void LogPressure(ILogger logger, double percent, double threshold, long used, long total);

    [LoggerMessage(Level = LogLevel.Information, Message = "Memory use {Percent:F0}% is below the threshold {Threshold:F0}% again: this node starts tasks again.")]
    private static partial void LogRelieved(ILogger logger, double percent, double threshold);
}
