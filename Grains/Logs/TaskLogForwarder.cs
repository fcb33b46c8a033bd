using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Logs;

/// <summary>
/// Sends the lines tasks and actors of this process write to their jobs' log grains, in batches (about every
/// 100 ms, grouped by job), so printing costs a queue add, not a grain call. Bounded: past
/// <see cref="QueueLimit"/> unsent lines the oldest are dropped and counted in the node's log.
/// </summary>
internal sealed partial class TaskLogForwarder
{
    private const int QueueLimit = 100_000;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private readonly RayRuntime _runtime;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<(string Job, LogLine Line)> _queue = new();
    private int _flushScheduled;
    /// <summary>One flush at a time: the log grain numbers batches in the order they arrive, so two in flight could swap.</summary>
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _dropped;

    public TaskLogForwarder(RayRuntime runtime, ILogger logger)
    {
        _runtime = runtime;
        _logger = logger;
    }

    public void Add(string job, LogLine line)
    {
        _queue.Enqueue((job, line));
        if (_queue.Count > QueueLimit && _queue.TryDequeue(out _))
        {
            Interlocked.Increment(ref _dropped);
        }

        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            _ = FlushLaterAsync();
        }
    }

    private async Task FlushLaterAsync()
    {
        WorkerContext.Leave(); // the flush's own work is not the task's output
        await Task.Delay(FlushInterval).ConfigureAwait(false);
        Volatile.Write(ref _flushScheduled, 0);
        await FlushAsync().ConfigureAwait(false);
        if (!_queue.IsEmpty && Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            _ = FlushLaterAsync();
        }
    }

    /// <summary>Sends every queued line now (a driver about to exit asks, so none of its output is left behind).</summary>
    public async Task FlushAsync()
    {
        await _flushing.WaitAsync().ConfigureAwait(false);
        try
        {
            await FlushQueuedAsync().ConfigureAwait(false);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task FlushQueuedAsync()
    {
        if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped)
        {
            LogDropped(_logger, dropped);
        }

        var batch = new List<(string Job, LogLine Line)>();
        while (_queue.TryDequeue(out var item))
        {
            batch.Add(item);
        }

        foreach (var job in batch.GroupBy(b => b.Job))
        {
            try
            {
                await _runtime.Grains.GetGrain<IJobLogGrain>(job.Key).AppendAsync(job.Select(b => b.Line).ToArray()).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Lost output is logged, never thrown into the fire-and-forget flush.
                LogNotSent(_logger, job.Count(), job.Key, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} lines of task output were dropped: more than 100,000 waited to be sent.")]
    private static partial void LogDropped(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} lines of task output for job {Job} could not be sent: {Reason}")]
    private static partial void LogNotSent(ILogger logger, int count, string job, string reason);
}
