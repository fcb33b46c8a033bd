using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>A node dies under running tasks: they are submitted again and finish on the survivor.</summary>
public sealed class NodeFailureTests
{
    [Fact]
    public async Task Tasks_on_a_node_that_dies_are_retried_on_another()
    {
        await using var cluster = await StartClusterAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both nodes report");

        var key = Probe.NewKey();
        var refs = Enumerable.Range(0, 4).Select(_ => ray.Task(TestTasks.BlockThenReportNode, key).Remote()).ToList();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 4, "four tasks run on the two nodes");

        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        await cluster.KillSiloAsync(victim);
        Probe.Open(key);

        // The victim's two tasks are run again on the survivor once membership declares the victim dead.
        var nodes = await ray.GetAsync(refs, TimeSpan.FromMinutes(2));
        Assert.DoesNotContain(victimNode, nodes);
        Assert.True(Probe.Count(key + ":started") >= 6, $"expected the two lost tasks to start again, saw {Probe.Count(key + ":started")} starts");
    }

    [Fact]
    public async Task A_call_to_an_actor_whose_node_dies_fails_with_ActorDiedException()
    {
        await using var cluster = await StartClusterAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both nodes report");

        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var actors = Enumerable.Range(0, 6).Select(_ => ray.Actor(() => new Counter()).Remote()).ToList();
        var nodes = await ray.GetAsync(actors.Select(a => a.Task(c => c.Node()).Remote()), Wait.Deadline);
        var doomed = actors[Array.IndexOf(nodes, victimNode)];

        var key = Probe.NewKey();
        var call = doomed.Task(c => c.WaitFor(key)).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the call runs");
        await cluster.KillSiloAsync(victim);
        Probe.Open(key);

        var e = await Assert.ThrowsAsync<ActorDiedException>(() => call.GetAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("died", e.Message);
    }

    [Fact]
    public async Task An_actor_lost_with_its_node_restarts_elsewhere_and_its_call_is_retried()
    {
        await using var cluster = await StartClusterAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both nodes report");

        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var restartable = new ActorOptions { MaxRestarts = 1, MaxTaskRetries = 1 };
        var actors = new List<ActorHandle<Counter>>();
        for (var i = 0; i < 6; i++)
        {
            actors.Add(await ray.Actor(() => new Counter(5)).Options(restartable).RemoteAsync());
        }

        var nodes = await ray.GetAsync(actors.Select(a => a.Task(c => c.Node()).Remote()), Wait.Deadline);
        var doomed = actors[Array.IndexOf(nodes, victimNode)];
        var mortal = await ray.Actor(() => new Counter(5)).RemoteAsync();
        while (await mortal.Task(c => c.Node()).Remote() != victimNode)
        {
            mortal = await ray.Actor(() => new Counter(5)).RemoteAsync();
        }

        Assert.Equal(6, await doomed.Task(c => c.Add(1)).Remote());
        var key = Probe.NewKey();
        var call = doomed.Task(c => c.WaitForOnNode(key)).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the call runs");
        await cluster.KillSiloAsync(victim);
        // Only the survivor's gate opens: an in-process "killed" silo's code keeps running, unlike a real
        // kill -9, and must not answer in its place.
        Probe.Open(key + ":" + cluster.Silos[0].SiloAddress.ToParsableString());

        // The call ran again on a fresh instance (built from the same constructor arguments) on the survivor.
        Assert.Equal(5, await call.GetAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(6, await doomed.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
        Assert.NotEqual(victimNode, await doomed.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));

        // An actor without restarts is dead, and says why, without waiting for a creation that never comes.
        var e = await Assert.ThrowsAsync<ActorDiedException>(() => mortal.Task(c => c.Add(1)).Remote().GetAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("no restarts left", e.Message);
    }

    /// <summary>A fresh two-silo cluster of 2-CPU nodes: these tests kill one, so they cannot share the fixture's.</summary>
    private static async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node => node.NumCpus = 2));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
