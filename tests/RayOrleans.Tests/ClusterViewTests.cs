using System.Collections.Concurrent;
using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Runtime;
using RayOrleans.Tests.Fixtures;

namespace RayOrleans.Tests;

/// <summary>
/// The cluster view's "nodes left" signal, which starts the directory rebuild: it must name every node that died since
/// the view's first refresh, also one the view never listed (it joined and died between two refreshes, and may have
/// hosted directory shards all the same).
/// </summary>
public sealed class ClusterViewTests
{
    [Fact]
    public async Task A_node_that_joined_and_died_between_two_refreshes_is_reported_as_left()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node => node.NumCpus = 1));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        // Refreshed by hand only (its loop is not started).
        var view = new ClusterView(cluster.Client, TimeSpan.FromHours(1));
        var left = new ConcurrentQueue<string>();
        view.NodesLeft += nodes =>
        {
            foreach (var node in nodes)
            {
                left.Enqueue(node);
            }
        };
        await view.RefreshAsync(TimeSpan.FromSeconds(30));
        var first = Assert.Single(view.Reported).NodeId;

        var victim = await cluster.StartAdditionalSiloAsync();
        var victimNode = victim.SiloAddress.ToParsableString();
        await cluster.KillSiloAsync(victim);
        await Wait.UntilAsync(async () => (await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false))
            .TryGetValue(victim.SiloAddress, out var status) && status == SiloStatus.Dead, "membership declares the killed silo dead");

        await view.RefreshAsync();
        Assert.Equal(first, Assert.Single(view.Reported).NodeId); // the view never listed the victim
        Assert.Equal([victimNode], left.Distinct());
        Assert.True(view.IsDead(victimNode));

        // A later refresh does not name it again.
        left.Clear();
        await view.RefreshAsync();
        Assert.Empty(left);
        await view.DisposeAsync();
    }
}
