using Orleans.TestingHost;
using RayOrleans.Hosting;

namespace RayOrleans.Tests.Fixtures;

/// <summary>
/// A fresh two-silo cluster of 2-CPU nodes for one test, for tests that kill a silo and so cannot share
/// <see cref="TwoNodeCluster"/>.
/// </summary>
public static class FreshCluster
{
    public static async Task<InProcessTestCluster> StartAsync(Action<RayOrleans.Node.NodeOptions>? configure = null, Action<RayOrleans.Runtime.RuntimeOptions>? configureRuntime = null)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(
            node =>
            {
                node.NumCpus = 2;
                configure?.Invoke(node);
            },
            configureRuntime));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>A driver attached to <paramref name="cluster"/> as a client, once both nodes have reported.</summary>
    public static async Task<Ray> AttachAsync(InProcessTestCluster cluster, RayInitOptions? options = null)
    {
        var ray = await Ray.AttachAsync(cluster.Client, options);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both nodes report");
        return ray;
    }
}
