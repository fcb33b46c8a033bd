using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// Attempt ends that only the owner sees: an attempt lost with its node (whose own record died with it), a
/// reply lost with a gateway, a task cancelled or failed before it reached any node. On a node they go
/// straight into its <see cref="Node.TaskEvents"/>; a driver, which has no store, batches them and sends
/// them to a node about once a second (Ray's owners report task events to the GCS in batches the same way).
/// Bounded: past <see cref="BufferLimit"/> unsent events the oldest are dropped and counted in the log.
/// </summary>
internal sealed partial class OwnerTaskEvents
{
    private const int BufferLimit = 10_000;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly RayRuntime _runtime;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Queue<TaskState> _buffer = new();
    private bool _flushScheduled;
    private long _dropped;

    public OwnerTaskEvents(RayRuntime runtime, ILogger logger)
    {
        _runtime = runtime;
        _logger = logger;
    }

    /// <summary>Attempt <paramref name="attempt"/> of <paramref name="spec"/> ended here, as the owner decided.</summary>
    public void TaskEnded(TaskSpec spec, int attempt, string? node, RayErrorInfo error, bool retried) => Add(new TaskState
    {
        TaskId = spec.TaskId, Attempt = attempt, Name = spec.Name, Type = TaskKinds.NormalTask, State = TaskStates.Failed, JobId = spec.JobId,
        ParentTaskId = spec.ParentTaskId, NodeId = node, EndTime = DateTime.UtcNow, ErrorType = error.ExceptionType, ErrorMessage = error.Message,
        Retried = retried,
    });

    /// <summary>Attempt <paramref name="attempt"/> of an actor call ended here, as its caller decided.</summary>
    public void CallEnded(ActorCall call, ActorId actor, int attempt, string? node, RayErrorInfo error, bool retried) => Add(new TaskState
    {
        TaskId = call.CallId, Attempt = attempt, Name = call.Name, Type = TaskKinds.ActorTask, State = TaskStates.Failed, JobId = call.JobId,
        ActorId = actor.Value, ParentTaskId = call.ParentTaskId, NodeId = node, EndTime = DateTime.UtcNow, ErrorType = error.ExceptionType,
        ErrorMessage = error.Message, Retried = retried,
    });

    private void Add(TaskState ended)
    {
        if (_runtime.LocalScheduler is { } local)
        {
            local.Events.Add(ended);
            return;
        }

        lock (_gate)
        {
            _buffer.Enqueue(ended);
            if (_buffer.Count > BufferLimit)
            {
                _buffer.Dequeue();
                _dropped++;
            }

            if (_flushScheduled)
            {
                return;
            }

            _flushScheduled = true;
        }

        _ = FlushLaterAsync();
    }

    private async Task FlushLaterAsync()
    {
        WorkerContext.Leave();
        await Task.Delay(FlushInterval).ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends the buffered events to a node now (a driver's exit calls this too).</summary>
    public async Task FlushAsync()
    {
        TaskState[] batch;
        long dropped;
        lock (_gate)
        {
            _flushScheduled = false;
            batch = [.. _buffer];
            _buffer.Clear();
            dropped = _dropped;
            _dropped = 0;
        }

        if (dropped > 0)
        {
            LogDropped(_logger, dropped);
        }

        // One node keeps them all, the first in id order of the live ones: any node answers a listing, since
        // a listing asks every node.
        var nodes = _runtime.Cluster.Reported;
        if (batch.Length == 0 || nodes.Count == 0)
        {
            return;
        }

        var node = nodes.MinBy(n => n.NodeId, StringComparer.Ordinal)!.NodeId;
        try
        {
            await _runtime.Node(node).ReportTaskEventsAsync(batch).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or ObjectDisposedException)
        {
            LogNotSent(_logger, batch.Length, node, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} task events were dropped: more than 10,000 waited to be sent.")]
    private static partial void LogDropped(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} task events could not be sent to node {Node}: {Reason}")]
    private static partial void LogNotSent(ILogger logger, int count, string node, string reason);
}
