using Orleans.TestingHost;
using RayOrleans.Hosting;

namespace RayOrleans.Tests.Fixtures;

/// <summary>
/// An in-process test cluster of two silos, each a 2-CPU RayOrleans node; the first also offers the
/// custom resource "accel": 1, so tests can pin work to it, and two (declared, not real) GPUs with ids "0" and "1".
/// The first is labelled zone=a, the second zone=b. The driver connects as an external client.
/// </summary>
public sealed class TwoNodeCluster : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public Ray Ray { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((options, silo) => silo.AddRayNode(node =>
        {
            node.NumCpus = 2;
            node.NumGpus = 0; // whatever this machine has: the GPU tests count on the declared ones only
            node.Labels["zone"] = options.SiloName.EndsWith("0", StringComparison.Ordinal) || options.SiloName.Contains("Primary", StringComparison.OrdinalIgnoreCase) ? "a" : "b";
            if (options.SiloName.EndsWith("0", StringComparison.Ordinal) || options.SiloName.Contains("Primary", StringComparison.OrdinalIgnoreCase))
            {
                node.Resources["accel"] = 1;
                node.NumGpus = 2;
            }
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Ray = await Ray.AttachAsync(Cluster.Client);
        await Wait.UntilAsync(async () => (await Ray.NodesAsync()).Count == 2, "both nodes report");
    }

    public async Task DisposeAsync()
    {
        await Ray.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TwoNodeCollection : ICollectionFixture<TwoNodeCluster>
{
    public const string Name = "two-node cluster";
}
