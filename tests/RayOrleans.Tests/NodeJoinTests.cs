using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Work no node can hold waits, reported as infeasible, and runs once a node that can hold it joins: a task
/// and an actor needing a resource only the joining node has, and a StrictSpread group on a one-node cluster.
/// </summary>
public sealed class NodeJoinTests
{
    [Fact]
    public async Task Infeasible_work_and_groups_wait_until_a_node_that_can_hold_them_joins()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((options, silo) => silo.AddRayNode(node =>
        {
            node.NumCpus = 2;
            if (!options.SiloName.Contains("Primary", StringComparison.OrdinalIgnoreCase) && !options.SiloName.EndsWith('0'))
            {
                node.Resources["big"] = 2; // only nodes that join later have it: room for the task and the actor at once
            }
        }));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 1, "the node reports");

        var group = await ray.PlacementGroupAsync([new() { [ResourceSet.Cpu] = 1 }, new() { [ResourceSet.Cpu] = 1 }], PlacementGroupStrategy.StrictSpread);
        Assert.False(await group.WaitAsync(TimeSpan.FromMilliseconds(300)));
        Assert.True((await group.InfoAsync()).Infeasible);
        var inGroup = ray.Task(TestTasks.WhereAmI, 1).Options(new TaskOptions { NumCpus = 0.5, SchedulingStrategy = group.Bundle(1) }).Remote();

        var needsBig = new Dictionary<string, double> { ["big"] = 1 };
        var task = ray.Task(TestTasks.WhereAmI, 2).Options(new TaskOptions { Resources = needsBig }).Remote();
        var actor = ray.Actor(() => new Counter()).Options(new ActorOptions { Resources = needsBig }).Remote();
        var call = actor.Task(c => c.Node()).Remote();
        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Infeasible.Sum(d => d.Demand["big"] > 0 ? d.Count : 0) == 2,
            "the task and the actor are reported infeasible");

        await cluster.StartAdditionalSiloAsync();
        var joined = cluster.Silos[1].SiloAddress.ToParsableString();

        Assert.Equal(joined, await task.GetAsync(Wait.Deadline));
        Assert.Equal(joined, await call.GetAsync(Wait.Deadline));
        await group.ReadyAsync().WaitAsync(Wait.Deadline);
        var info = await group.InfoAsync();
        Assert.Equal(2, info.BundleNodes.Distinct().Count());
        Assert.Equal(info.BundleNodes[1], await inGroup.GetAsync(Wait.Deadline));
        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Infeasible.Length == 0, "nothing is infeasible any more");
        await ray.RemovePlacementGroupAsync(group);
    }
}
