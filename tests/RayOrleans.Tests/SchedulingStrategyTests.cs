using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>Scheduling strategies on two nodes: Spread, and hard and soft NodeAffinity for tasks and actors.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class SchedulingStrategyTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    private async Task<string[]> NodeIdsAsync() => (await Ray.NodesAsync()).Select(n => n.NodeId).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Spread_puts_tasks_and_actors_on_every_node()
    {
        var nodes = await NodeIdsAsync();
        var spread = new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread };
        var where = await Ray.GetAsync(Enumerable.Range(0, 8).Select(i => Ray.Task(TestTasks.WhereAmI, i).Options(spread).Remote()));
        Assert.Equal(nodes, where.Distinct().Order(StringComparer.Ordinal).ToArray());
        // Round-robin: no node gets more than its share plus one.
        Assert.All(where.GroupBy(n => n), g => Assert.InRange(g.Count(), 3, 5));

        var actors = Enumerable.Range(0, 4)
            .Select(i => Ray.Actor(() => new Counter(i)).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.Spread }).Remote())
            .ToList();
        var homes = await Ray.GetAsync(actors.Select(a => a.Task(c => c.Node()).Remote()));
        Assert.Equal(nodes, homes.Distinct().Order(StringComparer.Ordinal).ToArray());
        foreach (var actor in actors)
        {
            await Ray.KillAsync(actor);
        }
    }

    [Fact]
    public async Task NodeAffinity_runs_tasks_and_actors_on_the_named_node_even_when_it_is_busy()
    {
        foreach (var node in await NodeIdsAsync())
        {
            var pinned = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) };
            // More tasks than the node has CPUs: the rest wait there rather than spill to the other node.
            var where = await Ray.GetAsync(Enumerable.Range(0, 6).Select(i => Ray.Task(TestTasks.WhereAmISlowly, i).Options(pinned).Remote()));
            Assert.All(where, w => Assert.Equal(node, w));

            var actor = Ray.Actor(() => new Counter()).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) }).Remote();
            Assert.Equal(node, await actor.Task(c => c.Node()).Remote());
            await Ray.KillAsync(actor);
        }
    }

    [Fact]
    public async Task NodeLabels_runs_work_on_the_labelled_node_and_waits_when_none_matches()
    {
        var zoneB = (await Ray.NodesAsync()).Single(n => n.Labels.GetValueOrDefault("zone") == "b").NodeId;
        var inB = SchedulingStrategy.NodeLabels(new Dictionary<string, string> { ["zone"] = "b" });
        var where = await Ray.GetAsync(Enumerable.Range(0, 6).Select(i => Ray.Task(TestTasks.WhereAmI, i).Options(new TaskOptions { SchedulingStrategy = inB }).Remote()), Wait.Deadline);
        Assert.All(where, w => Assert.Equal(zoneB, w));
        var actor = Ray.Actor(() => new Counter()).Options(new ActorOptions { SchedulingStrategy = inB }).Remote();
        Assert.Equal(zoneB, await actor.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
        await Ray.KillAsync(actor);

        var nowhere = new Dictionary<string, string> { ["zone"] = "z" };
        Assert.Equal(9, await Ray.Task(TestTasks.Square, 3).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeLabels(nowhere, soft: true) }).Remote().GetAsync(Wait.Deadline));
        var waiting = Ray.Task(TestTasks.Square, 3).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeLabels(nowhere) }).Remote();
        var e = await Assert.ThrowsAsync<GetTimeoutException>(() => waiting.GetAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Contains("matches no node", e.Message);
        await Ray.CancelAsync(waiting);
        Assert.Throws<ArgumentException>(() => SchedulingStrategy.NodeLabels(new Dictionary<string, string>()));
    }

    [Fact]
    public async Task Hard_NodeAffinity_to_a_missing_node_fails_clearly_and_soft_runs_elsewhere()
    {
        const string missing = "S127.0.0.1:1:1";
        var hard = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(missing) };
        var e = await Assert.ThrowsAsync<RayTaskException>(() => Ray.Task(TestTasks.Square, 3).Options(hard).Remote().GetAsync(Wait.Deadline));
        Assert.Contains(missing, e.Message);
        Assert.Contains("not in the cluster", e.Message);

        var soft = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(missing, soft: true) };
        Assert.Equal(9, await Ray.Task(TestTasks.Square, 3).Options(soft).Remote().GetAsync(Wait.Deadline));

        var actor = Ray.Actor(() => new Counter()).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(missing) }).Remote();
        var died = await Assert.ThrowsAsync<ActorDiedException>(() => actor.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
        Assert.Contains(missing, died.Message);

        Assert.Throws<ArgumentException>(() => SchedulingStrategy.NodeAffinity(" "));
        Assert.Throws<ArgumentNullException>(() => Ray.Task(TestTasks.Square, 3).Options(new TaskOptions { SchedulingStrategy = null! }));
    }
}
