using Microsoft.Extensions.Logging;
using Orleans.Utilities;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Logs;

/// <summary>
/// A job's output on the cluster: the last <see cref="KeptLines"/> lines (at most <see cref="KeptChars"/>
/// characters) for readers that come later (the dashboard, <c>ray.JobLogsAsync</c>), and every new batch
/// passed on to the subscribed drivers. In memory: lost if its silo dies (the driver has printed them).
/// Placed off draining nodes; a drain migrates it with its lines, its numbering and its subscribers.
/// </summary>
[ClusterStatePlacement]
internal sealed class JobLogGrain : Grain, IJobLogGrain, IGrainMigrationParticipant
{
    private const int KeptLines = 10_000;
    private const long KeptChars = 4 << 20;

    private readonly Queue<LogLine> _kept = new();
    private readonly ObserverManager<IJobLogObserver> _drivers;
    private long _chars;
    private long _dropped;
    private long _appended;
    private readonly ClusterStateActivations _stateGrains;
    private Guid _epoch = Guid.NewGuid();

    public JobLogGrain(ClusterStateActivations stateGrains, ILogger<JobLogGrain> logger)
    {
        _stateGrains = stateGrains;
        _drivers = new ObserverManager<IJobLogObserver>(TimeSpan.FromMinutes(5), logger);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stateGrains.Add(GrainContext);
        if (_kept.Count > 0)
        {
            DelayDeactivation(TimeSpan.FromHours(1)); // migrated with lines: kept for their readers, as before the move
        }

        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext context)
    {
        context.TryAddValue("lines", _kept.ToArray());
        context.TryAddValue("counts", new[] { _chars, _dropped, _appended });
        context.TryAddValue("epoch", _epoch);
        context.TryAddValue("drivers", _drivers.Select(d => d).ToArray());
    }

    public void OnRehydrate(IRehydrationContext context)
    {
        if (!context.TryGetValue("lines", out LogLine[]? lines) || lines is null || !context.TryGetValue("counts", out long[]? counts) || counts is not { Length: 3 })
        {
            return;
        }

        foreach (var line in lines)
        {
            _kept.Enqueue(line);
        }

        (_chars, _dropped, _appended) = (counts[0], counts[1], counts[2]);
        // The same epoch: a reader's line numbers stay valid across the move.
        if (context.TryGetValue("epoch", out Guid epoch))
        {
            _epoch = epoch;
        }

        if (context.TryGetValue("drivers", out IJobLogObserver[]? drivers) && drivers is not null)
        {
            foreach (var driver in drivers)
            {
                _drivers.Subscribe(driver, driver);
            }
        }
    }

    public Task AppendAsync(LogLine[] lines)
    {
        // Kept for readers after the driver is gone, for an hour past the job's last line.
        DelayDeactivation(TimeSpan.FromHours(1));
        foreach (var line in lines)
        {
            _kept.Enqueue(line);
            _chars += line.Text.Length;
        }

        while (_kept.Count > KeptLines || (_chars > KeptChars && _kept.Count > 1))
        {
            _chars -= _kept.Dequeue().Text.Length;
            _dropped++;
        }

        var first = _appended;
        _appended += lines.Length;
        _drivers.Notify(d => d.OnLinesAsync(lines, first, _epoch));
        return Task.CompletedTask;
    }

    public Task SubscribeAsync(IJobLogObserver observer)
    {
        _drivers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(IJobLogObserver observer)
    {
        _drivers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    public Task<JobLogTail> TailAsync(int max)
    {
        var skip = Math.Max(0, _kept.Count - Math.Max(0, max));
        return Task.FromResult(new JobLogTail(_kept.Skip(skip).ToArray(), _dropped + skip, _dropped + skip, _epoch));
    }

    public Task<JobLogTail> SinceAsync(long sequence, int max)
    {
        // _kept holds lines numbered _dropped .. _appended - 1.
        var skip = (int)Math.Clamp(sequence - _dropped, 0, _kept.Count);
        return Task.FromResult(new JobLogTail(_kept.Skip(skip).Take(Math.Max(0, max)).ToArray(), _dropped, _dropped + skip, _epoch));
    }
}
