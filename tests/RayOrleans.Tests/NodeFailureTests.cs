using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>A node dies under running tasks: they are submitted again and finish on the survivor.</summary>
public sealed class NodeFailureTests
{
    [Fact]
    public async Task Tasks_on_a_node_that_dies_are_retried_on_another()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);

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

        // The retries are in the tasks' history (the owner reports the lost attempts, about a second later).
        await Wait.UntilAsync(async () =>
        {
            var histories = await Task.WhenAll(refs.Select(r => ray.GetTaskAsync(r)));
            return histories.Count(h => h.Count == 2 && h[0] is { State: TaskStates.Failed, Retried: true, ErrorType: "RayOrleans.NodeDied" } &&
                                        h[0].NodeId == victimNode && h[1] is { State: TaskStates.Finished, Attempt: 1 }) == 2 &&
                   histories.Count(h => h.Count == 1 && h[0].State == TaskStates.Finished) == 2;
        }, "two tasks show a failed attempt on the dead node, then a finished retry");
    }

    [Fact]
    public async Task A_call_to_an_actor_whose_node_dies_fails_with_ActorDiedException()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);

        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var doomed = ray.Actor(() => new Counter()).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victimNode) }).Remote();
        Assert.Equal(victimNode, await doomed.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));

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
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);

        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        // Soft affinity: both start on the victim; the restartable one may come back on the survivor.
        var onVictim = SchedulingStrategy.NodeAffinity(victimNode, soft: true);
        var doomed = await ray.Actor(() => new Counter(5)).Options(new ActorOptions { MaxRestarts = 1, MaxTaskRetries = 1, SchedulingStrategy = onVictim }).RemoteAsync();
        var mortal = await ray.Actor(() => new Counter(5)).Options(new ActorOptions { SchedulingStrategy = onVictim }).RemoteAsync();
        Assert.Equal(victimNode, await doomed.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(victimNode, await mortal.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));

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

    [Fact]
    public async Task Named_actors_are_found_by_name_after_a_node_dies()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var survivorNode = cluster.Silos[0].SiloAddress.ToParsableString();

        // Eight namespaces (so some registries almost surely live on the victim), each with an actor on the
        // survivor and a restartable one on the victim.
        var prefix = "ns-" + Probe.NewKey()[..8];
        var actors = new List<(string Namespace, string Name, ActorHandle<Counter> Handle)>();
        for (var i = 0; i < 8; i++)
        {
            var ns = $"{prefix}-{i}";
            var stays = await ray.Actor(() => new Counter(i)).Options(new ActorOptions
            {
                Name = "stays", Namespace = ns, SchedulingStrategy = SchedulingStrategy.NodeAffinity(survivorNode),
            }).RemoteAsync();
            var moves = await ray.Actor(() => new Counter(i)).Options(new ActorOptions
            {
                Name = "moves", Namespace = ns, MaxRestarts = 1, SchedulingStrategy = SchedulingStrategy.NodeAffinity(victimNode, soft: true),
            }).RemoteAsync();
            actors.Add((ns, "stays", stays));
            actors.Add((ns, "moves", moves));
        }

        Assert.Equal(8, (await ray.GetAsync(actors.Where(a => a.Name == "moves").Select(a => a.Handle.Task(c => c.Node()).Remote()), Wait.Deadline))
            .Count(n => n == victimNode));
        await cluster.KillSiloAsync(victim);

        // Every name leads to its actor again: the survivor's were recovered by their registry, the moved ones
        // registered again when restarted; each answers from the survivor.
        foreach (var (ns, name, handle) in actors)
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    var found = await ray.GetActorAsync<Counter>(name, ns);
                    Assert.Equal(handle.Id, found.Id);
                    return await found.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline) == survivorNode;
                }
                catch (KeyNotFoundException)
                {
                    return false; // a moved actor may still be restarting
                }
            }, $"actor '{name}' in namespace {ns} is found by name", TimeSpan.FromMinutes(1));
        }
    }
}
