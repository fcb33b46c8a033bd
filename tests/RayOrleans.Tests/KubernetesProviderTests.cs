using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using RayOrleans.Autoscaler;
using RayOrleans.Autoscaler.Providers;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;

namespace RayOrleans.Tests;

/// <summary>
/// The Kubernetes provider through the autoscaler's rounds, against <see cref="FakeKubernetesApi"/>: a local HTTP server
/// that speaks the API paths the provider uses and records the requests. No Kubernetes cluster is available here, so
/// this checks the requests the provider makes (paths, patch type, bodies, order), not what a cluster does with them.
/// </summary>
public sealed class KubernetesProviderTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Scales_the_worker_pool_up_for_waiting_demands_and_removes_exactly_the_idle_pod()
    {
        await using var api = new FakeKubernetesApi("rayorleans");
        api.AddPool("rayorleans-worker-cpu", "cpu", replicas: 0);
        var options = new AutoscalerOptions
        {
            Provider = ProviderNames.Kubernetes,
            Kubernetes = new KubernetesProviderOptions { Host = api.Address, Namespace = "rayorleans" },
            NodeTypes = [new NodeTypeOptions { Name = "cpu", Resources = new() { ["CPU"] = 2 }, MaxWorkers = 5, WorkerPool = "rayorleans-worker-cpu" }],
            IdleTimeout = TimeSpan.FromSeconds(60),
            ScaleDownCooldown = TimeSpan.FromSeconds(10),
        };
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = api.Address });
        var provider = new KubernetesProvider(client, options, NullLogger<KubernetesProvider>.Instance);
        var cluster = new Cluster { Status = Status([Node("head", busy: 2)], pending: 4) };
        var autoscaler = new ClusterAutoscaler(cluster, provider, options, NullLogger<ClusterAutoscaler>.Instance);

        // Four one-CPU demands wait on a full head: two 2-CPU pods, by a merge patch of the scale subresource.
        await autoscaler.RunOnceAsync(T0, default);
        Assert.Equal(2, api.Replicas("rayorleans-worker-cpu"));
        var scaleUp = Assert.Single(api.Snapshot(), r => r.Method == "PATCH");
        Assert.Equal("/apis/apps/v1/namespaces/rayorleans/deployments/rayorleans-worker-cpu/scale", scaleUp.Path);
        Assert.StartsWith("application/merge-patch+json", scaleUp.ContentType);
        Assert.Equal("""{"spec":{"replicas":2}}""", scaleUp.Body);
        Assert.Contains(api.Snapshot(), r => r.Method == "GET" && r.Path == "/api/v1/namespaces/rayorleans/pods" &&
            Uri.UnescapeDataString(r.Query).Contains("labelSelector=app.kubernetes.io/component=worker,rayorleans.io/pool=cpu", StringComparison.Ordinal));

        // The replicas exist before their pods do: they count as starting, so the next round asks for nothing more.
        await autoscaler.RunOnceAsync(T0.AddSeconds(1), default);
        Assert.Single(api.Snapshot(), r => r.Method == "PATCH");
        Assert.Equal(2, cluster.Published[^1].NodeTypes[0].Starting);

        // The pods come up and their silos join (the node host labels each with its pod's name); the work spread out.
        api.AddPod("rayorleans-worker-cpu-a", "cpu");
        api.AddPod("rayorleans-worker-cpu-b", "cpu");
        cluster.Status = Status([Node("head", busy: 2), Node("n-a", busy: 2, pod: "rayorleans-worker-cpu-a"), Node("n-b", busy: 0, pod: "rayorleans-worker-cpu-b")]);
        await autoscaler.RunOnceAsync(T0.AddSeconds(20), default);
        Assert.Equal(["idle", "running"], cluster.Published[^1].Nodes.Select(n => n.State).Order());

        // Idle past the timeout, pod b goes: first its deletion cost is set lowest, then the replicas drop by one, so the
        // ReplicaSet deletes b and not the busy a.
        var before = api.Snapshot().Count;
        await autoscaler.RunOnceAsync(T0.AddSeconds(81), default);
        var patches = api.Snapshot().Skip(before).Where(r => r.Method == "PATCH").ToList();
        Assert.Equal(2, patches.Count);
        Assert.Equal("/api/v1/namespaces/rayorleans/pods/rayorleans-worker-cpu-b", patches[0].Path);
        Assert.Equal("""{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-2147483648"}}}""", patches[0].Body);
        Assert.StartsWith("application/merge-patch+json", patches[0].ContentType);
        Assert.Equal("/apis/apps/v1/namespaces/rayorleans/deployments/rayorleans-worker-cpu/scale", patches[1].Path);
        Assert.Equal("""{"spec":{"replicas":1}}""", patches[1].Body);
        Assert.Equal(1, api.Replicas("rayorleans-worker-cpu"));
        var terminate = Assert.Single(autoscaler.Decisions, d => d.Action == "terminate");
        Assert.Equal(["rayorleans-worker-cpu-b"], terminate.Instances);
    }

    [Fact]
    public async Task A_missing_worker_pool_is_an_error_decision_naming_it()
    {
        await using var api = new FakeKubernetesApi("rayorleans");
        var options = new AutoscalerOptions
        {
            Provider = ProviderNames.Kubernetes,
            Kubernetes = new KubernetesProviderOptions { Host = api.Address, Namespace = "rayorleans" },
            NodeTypes = [new NodeTypeOptions { Name = "cpu", Resources = new() { ["CPU"] = 2 }, WorkerPool = "no-such-pool" }],
        };
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = api.Address });
        var autoscaler = new ClusterAutoscaler(new Cluster { Status = Status([Node("head", busy: 0)]) },
            new KubernetesProvider(client, options, NullLogger<KubernetesProvider>.Instance), options, NullLogger<ClusterAutoscaler>.Instance);
        await autoscaler.RunOnceAsync(T0, default);
        var error = Assert.Single(autoscaler.Decisions);
        Assert.Equal("error", error.Action);
        Assert.Contains("NotFound", error.Reason);
    }

    private static ResourceSet Cpu(double n) => new(new Dictionary<string, double> { ["CPU"] = n });

    private static NodeReport Node(string id, int busy, string? pod = null) => new()
    {
        NodeId = id, Total = Cpu(2), Available = Cpu(2 - busy), Running = busy,
        Labels = pod is null ? [] : new() { [AutoscalerLabels.Instance] = pod },
    };

    private static ClusterStatus Status(NodeReport[] nodes, int pending = 0) => new()
    {
        Nodes = nodes,
        Pending = pending == 0 ? [] : [new DemandSummary { Demand = Cpu(1), Count = pending }],
        Infeasible = [],
    };

    private sealed class Cluster : IAutoscalerCluster
    {
        public ClusterStatus Status { get; set; } = null!;

        public List<AutoscalerState> Published { get; } = [];

        public Task<ClusterStatus> GetStatusAsync() => Task.FromResult(Status);

        public Task<ResourceSet[]> GetResourceRequestsAsync() => Task.FromResult<ResourceSet[]>([]);

        // A node with nothing on it drains at once.
        public Task<DrainStatus> DrainAsync(string nodeId) => Task.FromResult(new DrainStatus { Drained = true });

        public Task CancelDrainAsync(string nodeId) => Task.CompletedTask;

        public Task PublishAsync(AutoscalerState state)
        {
            Published.Add(state);
            return Task.CompletedTask;
        }
    }
}
