using Microsoft.Extensions.Logging.Abstractions;
using RayOrleans.Autoscaler;
using RayOrleans.Autoscaler.Providers;
using RayOrleans.Messages;

namespace RayOrleans.Tests;

/// <summary>
/// The autoscaler's rounds on written-out cluster states, a provider that only records, and a clock the test moves:
/// failed and slow launches, the standing resource request, and what it publishes.
/// </summary>
public sealed class AutoscalerRoundTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static AutoscalerOptions Options() => new()
    {
        NodeTypes = [new NodeTypeOptions { Name = "cpu-2", Resources = new() { ["CPU"] = 2 }, MaxWorkers = 3 }],
        IdleTimeout = TimeSpan.FromSeconds(60),
        ScaleDownCooldown = TimeSpan.FromSeconds(10),
        LaunchTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task A_node_that_never_joins_is_stopped_at_the_launch_deadline_and_its_demand_starts_another()
    {
        var cluster = new FakeCluster { Status = Status([Head(busy: true)], pending: 2) };
        var provider = new FakeProvider();
        var autoscaler = new ClusterAutoscaler(cluster, provider, Options(), NullLogger<ClusterAutoscaler>.Instance);

        await autoscaler.RunOnceAsync(T0, default);
        var first = Assert.Single(provider.Instances);
        Assert.Equal("cpu-2", first.NodeType);

        // Starting, within the deadline: counted as room on its way, nothing more starts.
        await autoscaler.RunOnceAsync(T0.AddSeconds(10), default);
        Assert.Single(provider.Instances);
        Assert.Equal("starting", Assert.Single(cluster.Published[^1].Nodes).State);

        // Past the deadline and still not in the cluster: stopped, reported, and a new one starts for the same demand.
        await autoscaler.RunOnceAsync(T0.AddSeconds(31), default);
        Assert.Equal([first.InstanceId], provider.Terminated);
        var failed = Assert.Single(autoscaler.Decisions, d => d.Action == "launch-failed");
        Assert.Contains("LaunchTimeout", failed.Reason);
        Assert.Equal(2, autoscaler.Decisions.Count(d => d.Action == "launch"));
        Assert.Single(provider.Instances, i => i.InstanceId != first.InstanceId && !i.Stopping);
    }

    [Fact]
    public async Task A_worker_that_exits_on_its_own_is_reported_with_its_reason_and_forgotten()
    {
        var cluster = new FakeCluster { Status = Status([Head(busy: true)], pending: 1) };
        var provider = new FakeProvider();
        var autoscaler = new ClusterAutoscaler(cluster, provider, Options(), NullLogger<ClusterAutoscaler>.Instance);
        await autoscaler.RunOnceAsync(T0, default);
        provider.Instances[0] = provider.Instances[0] with { Failure = "the process exited with code 1: error: --silo-port: taken" };

        await autoscaler.RunOnceAsync(T0.AddSeconds(1), default);
        var failed = Assert.Single(autoscaler.Decisions, d => d.Action == "launch-failed");
        Assert.Contains("exited with code 1", failed.Reason);
        Assert.Contains(provider.Terminated, id => id == failed.Instances[0]);
    }

    [Fact]
    public async Task An_idle_worker_stays_while_the_standing_resource_request_needs_it_and_goes_when_it_is_cleared()
    {
        var cluster = new FakeCluster { Status = Status([Head(busy: false)]), Requests = [Cpu(2), Cpu(2)] };
        var provider = new FakeProvider();
        var autoscaler = new ClusterAutoscaler(cluster, provider, Options(), NullLogger<ClusterAutoscaler>.Instance);

        // Two 2-CPU bundles: the head holds one, a worker the other.
        await autoscaler.RunOnceAsync(T0, default);
        var worker = Assert.Single(provider.Instances);
        Assert.Contains("requested 2 x {CPU: 2}", Assert.Single(autoscaler.Decisions, d => d.Action == "launch").Reason);
        cluster.Status = Status([Head(busy: false), Worker("w1", worker.InstanceId)]);

        await autoscaler.RunOnceAsync(T0.AddSeconds(5), default);
        await autoscaler.RunOnceAsync(T0.AddSeconds(100), default);
        Assert.Empty(provider.Terminated);
        Assert.Contains(autoscaler.Decisions, d => d.Action == "keep" && d.Reason.Contains("resource request", StringComparison.Ordinal));
        Assert.Equal("idle", Assert.Single(cluster.Published[^1].Nodes).State);
        Assert.Equal(2, cluster.Published[^1].ResourceRequests.Length);

        cluster.Requests = [];
        await autoscaler.RunOnceAsync(T0.AddSeconds(101), default);
        Assert.Equal([worker.InstanceId], provider.Terminated);
        Assert.Contains("idle for 96 s", Assert.Single(autoscaler.Decisions, d => d.Action == "terminate").Reason);
        Assert.Contains("idle for 96 s", Assert.Single(autoscaler.Decisions, d => d.Action == "drain").Reason);
        Assert.Equal("stopping", Assert.Single(cluster.Published[^1].Nodes).State);
    }

    [Fact]
    public async Task A_provider_that_fails_is_one_error_decision_and_the_last_state_stays_published()
    {
        var cluster = new FakeCluster { Status = Status([Head(busy: true)], pending: 1) };
        var provider = new FakeProvider();
        var autoscaler = new ClusterAutoscaler(cluster, provider, Options(), NullLogger<ClusterAutoscaler>.Instance);
        await autoscaler.RunOnceAsync(T0, default);
        provider.Broken = new HttpRequestException("connection refused");
        await autoscaler.RunOnceAsync(T0.AddSeconds(1), default);
        await autoscaler.RunOnceAsync(T0.AddSeconds(2), default);
        var error = Assert.Single(autoscaler.Decisions, d => d.Action == "error");
        Assert.Contains("connection refused", error.Reason);
        Assert.Equal(T0.AddSeconds(2), cluster.Published[^1].Updated);
        Assert.Contains(cluster.Published[^1].Decisions, d => d.Action == "error");
    }

    [Fact]
    public async Task An_idle_node_with_objects_is_drained_first_and_stopped_only_once_its_drain_is_done()
    {
        var cluster = new FakeCluster { Status = Status([Head(busy: true)], pending: 1) };
        var provider = new FakeProvider();
        var autoscaler = new ClusterAutoscaler(cluster, provider, Options(), NullLogger<ClusterAutoscaler>.Instance);
        await autoscaler.RunOnceAsync(T0, default);
        var worker = Assert.Single(provider.Instances);

        // Idle, holding two objects (the only copies): idle all the same; the drain moves them.
        cluster.Status = Status([Head(busy: true), Worker("w1", worker.InstanceId, objects: 2)]);
        cluster.Drains["w1"] = new DrainStatus { Waiting = "2 objects to move or drop" };
        await autoscaler.RunOnceAsync(T0.AddSeconds(20), default);
        await autoscaler.RunOnceAsync(T0.AddSeconds(81), default);
        Assert.Contains("2 objects in its store", Assert.Single(autoscaler.Decisions, d => d.Action == "drain").Reason);
        Assert.Equal(["w1"], cluster.DrainCalls);
        Assert.Empty(provider.Terminated);
        Assert.Equal("draining", Assert.Single(cluster.Published[^1].Nodes).State);

        // Still moving a round later: kept draining, not stopped, not drained again.
        cluster.Status = Status([Head(busy: true), Worker("w1", worker.InstanceId, objects: 1, draining: true)]);
        await autoscaler.RunOnceAsync(T0.AddSeconds(82), default);
        Assert.Empty(provider.Terminated);
        Assert.Single(autoscaler.Decisions, d => d.Action == "drain");

        cluster.Drains["w1"] = new DrainStatus { Drained = true, Moved = 2 };
        await autoscaler.RunOnceAsync(T0.AddSeconds(83), default);
        Assert.Equal([worker.InstanceId], provider.Terminated);
        var terminate = Assert.Single(autoscaler.Decisions, d => d.Action == "terminate");
        Assert.Contains("drained in 2 s", terminate.Reason);
        Assert.Contains("moved 2 objects", terminate.Reason);
        Assert.Empty(cluster.Cancelled);
    }

    [Fact]
    public async Task A_drain_past_the_deadline_or_that_fails_is_cancelled_and_the_node_kept_with_the_reason()
    {
        var options = Options();
        options.DrainTimeout = TimeSpan.FromSeconds(30);
        var cluster = new FakeCluster { Status = Status([Head(busy: true)], pending: 1) };
        var provider = new FakeProvider();
        var autoscaler = new ClusterAutoscaler(cluster, provider, options, NullLogger<ClusterAutoscaler>.Instance);
        await autoscaler.RunOnceAsync(T0, default);
        var worker = Assert.Single(provider.Instances);
        cluster.Status = Status([Head(busy: true), Worker("w1", worker.InstanceId)]);
        cluster.Drains["w1"] = new DrainStatus { Waiting = "1 task running" };
        await autoscaler.RunOnceAsync(T0.AddSeconds(20), default);
        await autoscaler.RunOnceAsync(T0.AddSeconds(81), default); // drain starts
        await autoscaler.RunOnceAsync(T0.AddSeconds(111), default); // 30 s: at the deadline, not past it
        Assert.Empty(cluster.Cancelled);

        await autoscaler.RunOnceAsync(T0.AddSeconds(112), default);
        Assert.Equal(["w1"], cluster.Cancelled);
        Assert.Empty(provider.Terminated);
        var cancelled = Assert.Single(autoscaler.Decisions, d => d.Action == "drain-cancelled");
        Assert.Contains("DrainTimeout", cancelled.Reason);
        Assert.Contains("1 task running", cancelled.Reason);
        Assert.Equal("idle", Assert.Single(cluster.Published[^1].Nodes).State);

        // Its idle time starts over: no new drain until another IdleTimeout has passed.
        await autoscaler.RunOnceAsync(T0.AddSeconds(150), default);
        Assert.Single(autoscaler.Decisions, d => d.Action == "drain");

        // The next drain fails (an object no node can take): cancelled at once, kept.
        cluster.Drains["w1"] = new DrainStatus { Failure = "object X (1,000 bytes) could not be moved: no other live node has room for it" };
        await autoscaler.RunOnceAsync(T0.AddSeconds(173), default);
        Assert.Equal(2, autoscaler.Decisions.Count(d => d.Action == "drain"));
        Assert.Contains("no other live node has room", autoscaler.Decisions.Last(d => d.Action == "drain-cancelled").Reason);
        Assert.Equal(["w1", "w1"], cluster.Cancelled);
        Assert.Empty(provider.Terminated);
    }

    [Fact]
    public void Options_name_what_is_wrong()
    {
        Assert.Contains("at least one node type", Assert.Throws<ArgumentException>(() => new AutoscalerOptions().Validate()).Message);
        var kubernetes = Options();
        kubernetes.Provider = ProviderNames.Kubernetes;
        Assert.Contains("WorkerPool", Assert.Throws<ArgumentException>(kubernetes.Validate).Message);
        var file = AutoscalerConfigFile.Parse("""{ "idleTimeout": "00:00:05", "nodeTypes": [ { "name": "a", "resources": { "CPU": 1 } } ] }""");
        Assert.Equal(TimeSpan.FromSeconds(5), file.IdleTimeout);
        Assert.Equal(10, file.NodeTypes[0].MaxWorkers);
        Assert.Contains("idleTimout", Assert.Throws<ArgumentException>(() => AutoscalerConfigFile.Parse("""{ "idleTimout": "00:00:05" }""")).Message);
    }

    private static ResourceSet Cpu(double n) => new(new Dictionary<string, double> { ["CPU"] = n });

    private static NodeReport Head(bool busy) => new()
    {
        NodeId = "head", Total = Cpu(2), Available = Cpu(busy ? 0 : 2), Running = busy ? 2 : 0,
    };

    private static NodeReport Worker(string nodeId, string instanceId, int objects = 0, bool draining = false) => new()
    {
        NodeId = nodeId, Total = Cpu(2), Available = Cpu(2), ObjectCount = objects, Draining = draining,
        Labels = new() { [AutoscalerLabels.Instance] = instanceId, [AutoscalerLabels.NodeType] = "cpu-2" },
    };

    private static ClusterStatus Status(NodeReport[] nodes, int pending = 0) => new()
    {
        Nodes = nodes,
        Pending = pending == 0 ? [] : [new DemandSummary { Demand = Cpu(1), Count = pending }],
        Infeasible = [],
    };

    private sealed class FakeCluster : IAutoscalerCluster
    {
        public ClusterStatus Status { get; set; } = null!;

        public ResourceSet[] Requests { get; set; } = [];

        public List<AutoscalerState> Published { get; } = [];

        public Task<ClusterStatus> GetStatusAsync() => Task.FromResult(Status);

        public Task<ResourceSet[]> GetResourceRequestsAsync() => Task.FromResult(Requests);

        /// <summary>What a node's drain answers (by node id); a node not named drains at once.</summary>
        public Dictionary<string, DrainStatus> Drains { get; } = [];

        public List<string> DrainCalls { get; } = [];

        public List<string> Cancelled { get; } = [];

        public Task<DrainStatus> DrainAsync(string nodeId)
        {
            DrainCalls.Add(nodeId);
            return Task.FromResult(Drains.GetValueOrDefault(nodeId) ?? new DrainStatus { Drained = true });
        }

        public Task CancelDrainAsync(string nodeId)
        {
            Cancelled.Add(nodeId);
            return Task.CompletedTask;
        }

        public Task PublishAsync(AutoscalerState state)
        {
            Published.Add(state);
            return Task.CompletedTask;
        }
    }

    /// <summary>Records launches and stops; a stopped instance stays listed as stopping, as a real one does until it exits.</summary>
    private sealed class FakeProvider : INodeProvider
    {
        private int _next;

        public List<ProviderInstance> Instances { get; } = [];

        public List<string> Terminated { get; } = [];

        public Exception? Broken { get; set; }

        public string Name => "Fake";

        public Task<IReadOnlyList<ProviderInstance>> ListAsync(CancellationToken cancellationToken) =>
            Broken is null ? Task.FromResult<IReadOnlyList<ProviderInstance>>([.. Instances]) : Task.FromException<IReadOnlyList<ProviderInstance>>(Broken);

        public Task LaunchAsync(NodeType type, int count, CancellationToken cancellationToken)
        {
            for (var i = 0; i < count; i++)
            {
                Instances.Add(new ProviderInstance($"{type.Name}-{_next++}", type.Name));
            }

            return Task.CompletedTask;
        }

        public Task TerminateAsync(IReadOnlyList<ProviderInstance> instances, CancellationToken cancellationToken)
        {
            foreach (var instance in instances)
            {
                Terminated.Add(instance.InstanceId);
                var index = Instances.FindIndex(i => i.InstanceId == instance.InstanceId);
                Instances[index] = Instances[index] with { Stopping = true };
            }

            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
