using System.Diagnostics;

namespace RayOrleans.Benchmarks.Measurement;

/// <summary>
/// Samples this process's working set every 20 ms while it runs, so a scenario can report its own peak
/// (<see cref="Process.PeakWorkingSet64"/> is the whole process's lifetime peak and cannot be reset).
/// </summary>
public sealed class WorkingSetSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    private WorkingSetSampler()
    {
        Start = Current();
        _peak = Start;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The working set when sampling started, in bytes.</summary>
    public long Start { get; }

    /// <summary>The highest working set seen so far, in bytes.</summary>
    public long Peak => Math.Max(Interlocked.Read(ref _peak), Current());

    public static WorkingSetSampler StartNew() => new();

    /// <summary>
    /// The process's working set (resident set) now, in bytes. On Linux it reads /proc/self/statm, about
    /// 10 us, where <see cref="Process.WorkingSet64"/> takes about 0.7 ms (it walks every thread's stat file),
    /// which at 50 samples a second would itself load the 2-core machine being measured.
    /// </summary>
    public static long Current()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            using var self = Process.GetCurrentProcess();
            return self.WorkingSet64;
        }
    }

    /// <summary>The process's lifetime peak working set, in bytes.</summary>
    public static long ProcessPeak()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var now = Current();
                if (now > Interlocked.Read(ref _peak))
                {
                    Interlocked.Exchange(ref _peak, now);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
