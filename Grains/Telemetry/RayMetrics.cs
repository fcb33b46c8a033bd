using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using RayOrleans.Node;

namespace RayOrleans.Telemetry;

/// <summary>
/// The <see cref="RayTelemetry.MeterName"/> meter. Counters and the latency histogram are recorded where a task
/// ends or starts; everything else is observed on collection from what each node already keeps (its
/// <see cref="LocalScheduler"/>, <see cref="NodeResources"/> and <see cref="NodeObjectStore"/>), so a process
/// nobody scrapes pays nothing for it. Every measurement carries <see cref="RayTelemetry.Attributes.NodeId"/>:
/// one process may host several nodes (tests, an embedded driver beside its own silo).
/// </summary>
internal static class RayMetrics
{
    private static readonly ConcurrentDictionary<string, LocalScheduler> Nodes = new(StringComparer.Ordinal);

    public static readonly Meter Meter = new(RayTelemetry.MeterName);

    private static readonly Counter<long> Finished = Meter.CreateCounter<long>(RayTelemetry.Metrics.TasksFinished, "{task}", "Tasks that ran to a result on this node.");

    private static readonly Counter<long> Failed = Meter.CreateCounter<long>(RayTelemetry.Metrics.TasksFailed, "{task}", "Tasks that ended in an error on this node.");

    // Tasks start in well under a millisecond on an idle node and may wait minutes on a busy one; the SDK's
    // default buckets (0 to 10 000, meant for milliseconds) would put nearly every task in the first one.
    private static readonly Histogram<double> SchedulingLatency = Meter.CreateHistogram(
        RayTelemetry.Metrics.SchedulingLatency, "s", "Seconds from a task's arrival in the node's queue to the start of its code.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300] });

    static RayMetrics()
    {
        Meter.CreateObservableGauge(RayTelemetry.Metrics.Tasks, ObserveTasks, "{task}", "Tasks on this node now, by state.");
        Meter.CreateObservableGauge(RayTelemetry.Metrics.Actors, () => Observe(static n => n.Actors), "{actor}", "Actors alive on this node.");
        Meter.CreateObservableGauge(RayTelemetry.Metrics.ObjectStoreUsed, () => ObserveStore(static s => s.Used), "By", "Bytes of live objects in this node's object store.");
        Meter.CreateObservableGauge(RayTelemetry.Metrics.ObjectStoreCapacity, () => ObserveStore(static s => s.Capacity), "By", "This node's object store capacity.");
        Meter.CreateObservableGauge(RayTelemetry.Metrics.ObjectStoreSpilled, () => ObserveStore(static s => s.Spilled), "By", "Bytes of objects spilled to disk by this node's object store.");
        Meter.CreateObservableGauge(RayTelemetry.Metrics.ObjectStoreObjects, () => ObserveStore(static s => s.Count), "{object}", "Objects in this node's object store.");
        Meter.CreateObservableGauge(RayTelemetry.Metrics.Resources, ObserveResources, "{resource}", "This node's resources by kind, in total and available now.");
    }

    /// <summary>Observes <paramref name="scheduler"/>'s node from now on (its silo started).</summary>
    public static void Register(LocalScheduler scheduler) => Nodes[scheduler.NodeRuntime.NodeId] = scheduler;

    /// <summary>Stops observing the node (its silo stops).</summary>
    public static void Unregister(LocalScheduler scheduler) => Nodes.TryRemove(KeyValuePair.Create(scheduler.NodeRuntime.NodeId, scheduler));

    /// <summary>When a task was queued, for <see cref="TaskStarted"/>; 0 (and no clock read) when the latency is not collected.</summary>
    public static long QueuedTimestamp() => SchedulingLatency.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records the scheduling latency of a task queued at <paramref name="queuedAt"/> (from <see cref="QueuedTimestamp"/>) that starts now.</summary>
    public static void TaskStarted(long queuedAt, string nodeId)
    {
        if (queuedAt != 0 && SchedulingLatency.Enabled)
        {
            SchedulingLatency.Record(Stopwatch.GetElapsedTime(queuedAt).TotalSeconds, Node(nodeId));
        }
    }

    /// <summary>Counts a task that ran to a result on <paramref name="nodeId"/>.</summary>
    public static void TaskFinished(string nodeId)
    {
        if (Finished.Enabled)
        {
            Finished.Add(1, Node(nodeId));
        }
    }

    /// <summary>Counts a task that ended in an error on <paramref name="nodeId"/>.</summary>
    public static void TaskFailed(string nodeId)
    {
        if (Failed.Enabled)
        {
            Failed.Add(1, Node(nodeId));
        }
    }

    private static KeyValuePair<string, object?> Node(string nodeId) => new(RayTelemetry.Attributes.NodeId, nodeId);

    private static IEnumerable<Measurement<int>> ObserveTasks()
    {
        foreach (var (id, node) in Nodes)
        {
            yield return new Measurement<int>(node.Queued, Node(id), new(RayTelemetry.Attributes.TaskState, "queued"));
            yield return new Measurement<int>(node.Running, Node(id), new(RayTelemetry.Attributes.TaskState, "running"));
        }
    }

    private static IEnumerable<Measurement<int>> Observe(Func<LocalScheduler, int> read)
    {
        foreach (var (id, node) in Nodes)
        {
            yield return new Measurement<int>(read(node), Node(id));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveStore(Func<NodeObjectStore, long> read)
    {
        foreach (var (id, node) in Nodes)
        {
            if (node.NodeRuntime.Runtime.LocalStore is { } store)
            {
                yield return new Measurement<long>(read(store), Node(id));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveResources()
    {
        foreach (var (id, node) in Nodes)
        {
            foreach (var (kind, amount) in node.Resources.Total.Amounts)
            {
                yield return new Measurement<double>(amount, Node(id), new(RayTelemetry.Attributes.Resource, kind), new(RayTelemetry.Attributes.ResourceState, "total"));
            }

            foreach (var (kind, amount) in node.Resources.Available.Amounts)
            {
                yield return new Measurement<double>(amount, Node(id), new(RayTelemetry.Attributes.Resource, kind), new(RayTelemetry.Attributes.ResourceState, "available"));
            }
        }
    }
}
