using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;

namespace RayOrleans.Tests;

/// <summary>A StrictSpread group on a one-node cluster waits, infeasible, until a second node joins.</summary>
public sealed class PlacementGroupJoinTests
{
    [Fact]
    public async Task A_StrictSpread_group_is_placed_once_a_second_node_joins()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node => node.NumCpus = 2));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 1, "the node reports");

        var group = await ray.PlacementGroupAsync([new() { [ResourceSet.Cpu] = 1 }, new() { [ResourceSet.Cpu] = 1 }], PlacementGroupStrategy.StrictSpread);
        Assert.False(await group.WaitAsync(TimeSpan.FromMilliseconds(300)));
        Assert.True((await group.InfoAsync()).Infeasible);

        // Work scheduled into it waits with it.
        var waiting = ray.Task(Functions.TestTasks.WhereAmI, 1).Options(new TaskOptions { NumCpus = 0.5, SchedulingStrategy = group.Bundle(1) }).Remote();

        await cluster.StartAdditionalSiloAsync();
        await group.ReadyAsync().WaitAsync(Wait.Deadline);
        var info = await group.InfoAsync();
        Assert.Equal(2, info.BundleNodes.Distinct().Count());
        Assert.Equal(info.BundleNodes[1], await waiting.GetAsync(Wait.Deadline));
        await ray.RemovePlacementGroupAsync(group);
    }
}
