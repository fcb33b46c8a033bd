using System.Diagnostics;
using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orleans.TestingHost;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Hosting;
using RayOrleans.Telemetry;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>Tasks for the trace test: a task that submits a task that calls an actor.</summary>
public static class TracedTasks
{
    public static async Task<int> Outer(ActorHandle<Counter> counter, int amount) =>
        await Ray.Current.Task(Inner, counter, amount).Remote() + 1;

    public static async Task<int> Inner(ActorHandle<Counter> counter, int amount) =>
        await counter.Task(c => c.Add(amount)).Remote();
}

/// <summary>OpenTelemetry traces across nodes and processes, and the node host's Prometheus metrics.</summary>
public sealed class TelemetryTests
{
    private static readonly ActivitySource Driver = new("RayOrleans.Tests.Driver");

    [Fact]
    public async Task A_driver_call_a_nested_task_and_an_actor_call_make_one_trace_across_two_nodes()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Driver.Name, RayTelemetry.SourceName).AddSource([.. RayTelemetry.OrleansSourceNames])
            .AddInMemoryExporter(spans)
            .Build();

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node =>
        {
            node.NumCpus = 2;
            node.OrleansTracing = true; // Orleans' own spans join the trace too
        }));
        builder.ConfigureClient(client => client.AddActivityPropagation());
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var nodeIds = (await ray.NodesAsync()).Select(n => n.NodeId).ToHashSet();

        // The application's own span around the driver call: the trace every RayOrleans span must join. Other
        // tests run beside this one in the process, so only spans of this trace are looked at.
        ObjectRef<int> outer;
        ActorHandle<Counter> counter;
        ActivityTraceId traceId;
        using (var root = Driver.StartActivity("driver call")!)
        {
            traceId = root.TraceId;
            counter = ray.Actor(() => new Counter(100)).Remote();
            outer = ray.Task(TracedTasks.Outer, counter, 5).Remote();
        }

        Assert.Equal(106, await outer.GetAsync(Wait.Deadline));

        // An execute span ends when its result is stored, which for an actor call is just after the reply.
        List<Activity> trace = [];
        await Wait.UntilAsync(() =>
        {
            lock (spans)
            {
                trace = spans.Where(s => s.TraceId == traceId).ToList();
            }

            return trace.Count(s => s.Source.Name == RayTelemetry.SourceName) == 8;
        }, "the eight RayOrleans spans of the driver's calls are exported", Wait.Deadline).ContinueWith(t =>
        {
            if (t.IsFaulted)
            {
                // Name what did arrive, and where: a span in another trace is a break in the propagation.
                lock (spans)
                {
                    var seen = spans.Where(s => s.Source.Name == RayTelemetry.SourceName).Select(s => $"{s.DisplayName} ({(s.TraceId == traceId ? "this trace" : s.TraceId.ToString())})");
                    throw new TimeoutException($"{t.Exception!.InnerException!.Message} Seen: {string.Join(", ", seen)}.");
                }
            }
        }, TaskScheduler.Default);

        var byId = trace.ToDictionary(s => s.SpanId);
        var submitOuter = Single(trace, "ray.submit TracedTasks.Outer");
        var executeOuter = Single(trace, "ray.execute TracedTasks.Outer");
        var submitInner = Single(trace, "ray.submit TracedTasks.Inner");
        var executeInner = Single(trace, "ray.execute TracedTasks.Inner");
        var submitCall = Single(trace, "ray.submit Counter.Add");
        var executeCall = Single(trace, "ray.execute Counter.Add");
        var createActor = Single(trace, "ray.submit Counter.ctor");
        var constructActor = Single(trace, "ray.execute Counter.ctor");

        // Each execute span is a child of its submit span; the nested submits are children of the execute span
        // whose code made them (directly: the task's code runs with its execute span current).
        Assert.Equal(Driver.Name, byId[submitOuter.ParentSpanId].Source.Name);
        Assert.Equal(submitOuter.ParentSpanId, createActor.ParentSpanId);
        Assert.Equal(createActor.SpanId, constructActor.ParentSpanId);
        Assert.Equal(submitOuter.SpanId, executeOuter.ParentSpanId);
        Assert.Equal(executeOuter.SpanId, submitInner.ParentSpanId);
        Assert.Equal(submitInner.SpanId, executeInner.ParentSpanId);
        Assert.Equal(executeInner.SpanId, submitCall.ParentSpanId);
        Assert.Equal(submitCall.SpanId, executeCall.ParentSpanId);
        Assert.Contains(executeOuter.SpanId, Ancestors(executeInner, byId));
        Assert.Contains(executeOuter.SpanId, Ancestors(executeCall, byId));

        Assert.Equal(ActivityKind.Producer, submitOuter.Kind);
        Assert.Equal(ActivityKind.Consumer, executeOuter.Kind);
        Assert.Equal(outer.Id.TaskId.ToString(), Tag(submitOuter, RayTelemetry.Attributes.TaskId));
        Assert.Equal(outer.Id.TaskId.ToString(), Tag(executeOuter, RayTelemetry.Attributes.TaskId));
        Assert.Equal(Tag(submitInner, RayTelemetry.Attributes.TaskId), Tag(executeInner, RayTelemetry.Attributes.TaskId));
        Assert.Equal(Tag(submitCall, RayTelemetry.Attributes.TaskId), Tag(executeCall, RayTelemetry.Attributes.TaskId));
        Assert.Equal("TracedTasks.Inner", Tag(executeInner, RayTelemetry.Attributes.TaskName));
        Assert.Equal("Counter.Add", Tag(executeCall, RayTelemetry.Attributes.TaskName));
        Assert.Equal(counter.Id.Value.ToString(), Tag(submitCall, RayTelemetry.Attributes.ActorId));
        Assert.Equal(counter.Id.Value.ToString(), Tag(executeCall, RayTelemetry.Attributes.ActorId));
        Assert.Equal(counter.Id.Value.ToString(), Tag(constructActor, RayTelemetry.Attributes.ActorId));
        Assert.Equal(Tag(executeCall, RayTelemetry.Attributes.NodeId), Tag(constructActor, RayTelemetry.Attributes.NodeId));
        Assert.Equal("0", Tag(executeOuter, RayTelemetry.Attributes.Attempt));
        Assert.Null(Tag(submitOuter, RayTelemetry.Attributes.NodeId)); // submitted by the driver, which is no node
        Assert.Contains(Tag(submitInner, RayTelemetry.Attributes.NodeId)!, nodeIds); // submitted by the node running Outer
        Assert.All([executeOuter, executeInner, executeCall], s => Assert.Contains(Tag(s, RayTelemetry.Attributes.NodeId)!, nodeIds));
        Assert.Equal(Tag(executeOuter, RayTelemetry.Attributes.NodeId), Tag(submitInner, RayTelemetry.Attributes.NodeId));

        // The driver's grain call to the node joined the trace through Orleans' activity propagation.
        Assert.Contains(trace, s => RayTelemetry.OrleansSourceNames.Contains(s.Source.Name));

        // No span of this call's work fell out of the trace (a root of its own elsewhere).
        lock (spans)
        {
            var ids = new[] { submitOuter, submitInner, submitCall }.Select(s => Tag(s, RayTelemetry.Attributes.TaskId)).ToHashSet();
            Assert.All(spans.Where(s => ids.Contains(Tag(s, RayTelemetry.Attributes.TaskId))), s => Assert.Equal(traceId, s.TraceId));
        }
    }

    [Fact]
    public async Task A_silo_process_serves_its_task_resource_and_store_metrics_at_slash_metrics()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 1, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        var node = cluster.Silos[0].NodeId;

        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i), await ray.GetAsync(Enumerable.Range(0, 10).Select(i => ray.Task(TestTasks.Square, i).Remote()), Wait.Deadline));
        await Assert.ThrowsAsync<RayTaskException>(() => ray.Task(TestTasks.Fail, "counted").Remote().GetAsync(Wait.Deadline));
        var big = await ray.Task(TestTasks.MakeArray, 100_000).Remote().GetAsync(Wait.Deadline); // 800 KB: stored in the node's object store
        Assert.Equal(100_000, big.Length);
        var counter = ray.Actor(() => new Counter(1)).Remote();
        Assert.Equal(2, await counter.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));

        using var http = new HttpClient();
        var url = $"http://127.0.0.1:{cluster.HttpPorts[0]}/metrics";
        string metrics = "";
        // The exporter caches a scrape for a moment, so the counts may show on a later one.
        await Wait.UntilAsync(async () =>
        {
            metrics = await http.GetStringAsync(url);
            return Value(metrics, "ray_tasks_finished_total", node) >= 11 && Value(metrics, "ray_tasks_failed_total", node) >= 1 &&
                   Value(metrics, "ray_actors", node) >= 1;
        }, "the node's task counters and actor count reach what the driver ran");

        Assert.Equal(2, Value(metrics, "ray_resources", node, "ray_resource=\"CPU\"", "ray_resource_state=\"total\""));
        Assert.InRange(Value(metrics, "ray_resources", node, "ray_resource=\"CPU\"", "ray_resource_state=\"available\"")!.Value, 0, 2);
        Assert.True(Value(metrics, "ray_object_store_capacity_bytes", node) > 0, "the store's capacity is reported");
        Assert.NotNull(Value(metrics, "ray_object_store_used_bytes", node));
        Assert.True(Value(metrics, "ray_task_scheduling_latency_seconds_count", node) >= 11, "each task that started is in the latency histogram");
        Assert.Equal(0, Value(metrics, "ray_tasks", node, "ray_task_state=\"running\""));
        Assert.Contains("# TYPE ray_tasks_finished_total counter", metrics);
    }

    [Fact]
    public void With_no_listener_a_submitted_task_is_not_copied_and_gets_no_span()
    {
        // The other tests of this class (which listen) do not run at the same time as this one, and no other
        // class listens to RayOrleans' source.
        Assert.False(RayTracing.Source.HasListeners());
        var spec = new Messages.TaskSpec
        {
            TaskId = Guid.NewGuid(), Function = "f", Name = "T.F", Args = [], Resources = Messages.ResourceSet.Empty,
        };
        var submitted = spec;

        Assert.Null(RayTracing.StartSubmit(ref spec, "node"));
        Assert.Same(submitted, spec);
        Assert.Null(RayTracing.StartExecute(spec, "node", 0));
        Assert.Equal(0, RayMetrics.QueuedTimestamp()); // no clock read for a latency nobody collects
    }

    private static Activity Single(List<Activity> trace, string name) =>
        Assert.Single(trace, s => s.DisplayName == name);

    private static string? Tag(Activity span, string key) => span.GetTagItem(key)?.ToString();

    private static IEnumerable<ActivitySpanId> Ancestors(Activity span, Dictionary<ActivitySpanId, Activity> byId)
    {
        for (var parent = span.ParentSpanId; byId.TryGetValue(parent, out var next); parent = next.ParentSpanId)
        {
            yield return parent;
        }
    }

    /// <summary>
    /// The value of the sample of <paramref name="metric"/> for <paramref name="node"/> whose labels include
    /// each of <paramref name="labels"/> (Prometheus text format); null when there is none.
    /// </summary>
    private static double? Value(string metrics, string metric, string node, params string[] labels)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(metric + "{", StringComparison.Ordinal) && line.Contains($"ray_node_id=\"{node}\"", StringComparison.Ordinal) &&
                labels.All(l => line.Contains(l, StringComparison.Ordinal)))
            {
                var sample = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
                return double.Parse(sample, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
