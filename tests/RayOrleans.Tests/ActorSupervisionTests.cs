using System.Text.Json;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Restartable actors are restarted by the cluster (their supervisor), not only by their creator: a detached
/// actor whose driver exited comes back when its node dies, and callers that did not create an actor have
/// their calls retried against the restarted actor. Real silo processes on Redis, killed with SIGKILL.
/// </summary>
public sealed class ActorSupervisionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_detached_actor_whose_driver_exited_is_restarted_by_the_cluster_when_its_node_dies()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        // The silos load the tests' folder as their code, so nothing depends on the exited driver's shipped package.
        var options = new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false };
        var victim = cluster.Silos[1].NodeId;
        var survivor = cluster.Silos[0].NodeId;
        var name = "kept-" + Probe.NewKey()[..8];

        ActorId id;
        await using (var creator = await Ray.InitAsync(cluster.Address, options))
        {
            await Wait.UntilAsync(async () => (await creator.NodesAsync()).Count == 2, "both silo processes report");
            var actor = await creator.Actor(() => new Counter(5)).Options(new ActorOptions
            {
                Name = name, Lifetime = ActorLifetime.Detached, MaxRestarts = 1,
                SchedulingStrategy = SchedulingStrategy.NodeAffinity(victim, soft: true),
            }).RemoteAsync().WaitAsync(Bound);
            Assert.Equal(victim, await actor.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
            Assert.Equal(6, await actor.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
            id = actor.Id;
        } // the creator exits: nobody but the cluster can restart the actor now

        cluster.Kill(1);

        // No driver is connected: the survivor's state API shows the actor alive again, restarted once, there.
        using var http = new HttpClient();
        var url = $"http://127.0.0.1:{cluster.HttpPorts[0]}/api/actors?name={name}&state=alive";
        await Wait.UntilAsync(async () =>
        {
            var rows = await AliveRowsAsync(http, url);
            return rows?.Count == 1 && rows[0].GetProperty("restarts").GetInt32() == 1 && rows[0].GetProperty("nodeId").GetString() == survivor;
        }, "the cluster restarts the detached actor on the survivor with no driver connected", Bound);

        // Another driver finds it by name: its constructor ran again (the state is reset to 5), and calls work.
        await using var later = await Ray.InitAsync(cluster.Address, options);
        var found = await later.GetActorAsync<Counter>(name);
        Assert.Equal(id, found.Id);
        Assert.Equal(5, await found.Task(c => c.Total()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(7, await found.Task(c => c.Add(2)).Remote().GetAsync(Wait.Deadline));
        var row = Assert.Single(await later.ListActorsAsync(new ActorQuery { Name = name }), a => a.State == "ALIVE");
        Assert.Equal(1, row.Restarts);
        Assert.Equal(survivor, row.Node);
    }

    [Fact]
    public async Task A_detached_actor_is_restarted_from_its_stored_record_when_its_node_and_its_supervisors_node_die_together()
    {
        // Four silos, so that two survive to vote the two dead ones out.
        await using var cluster = await ProcessCluster.StartAsync(silos: 4, cpusPerSilo: 2);
        var options = new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false };
        var home = cluster.Silos[1].NodeId;
        var name = "stored-" + Probe.NewKey()[..8];

        string supervisor;
        await using (var creator = await Ray.InitAsync(cluster.Address, options))
        {
            await Wait.UntilAsync(async () => (await creator.NodesAsync()).Count == 4, "the four silo processes report");
            var actor = await creator.Actor(() => new Counter(5)).Options(new ActorOptions
            {
                Name = name, Lifetime = ActorLifetime.Detached, MaxRestarts = 1,
                SchedulingStrategy = SchedulingStrategy.NodeAffinity(home, soft: true),
            }).RemoteAsync().WaitAsync(Bound);
            Assert.Equal(6, await actor.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
            supervisor = (await StatusAsync(creator, actor.Id))!.SupervisorNode!;
            Assert.NotEqual(home, supervisor);
        } // the creator exits: its copy of the spec goes with it

        // The actor's node and its supervisor's node die at once: only the stored record is left.
        cluster.Kill(1);
        cluster.Kill(cluster.Silos.FindIndex(s => s.NodeId == supervisor));
        var survivors = cluster.Silos.Select(s => s.NodeId).Where(n => n != home && n != supervisor).ToHashSet();
        var http = cluster.HttpPorts[cluster.Silos.FindIndex(s => survivors.Contains(s.NodeId))];

        using var client = new HttpClient();
        var url = $"http://127.0.0.1:{http}/api/actors?name={name}&state=alive";
        await Wait.UntilAsync(async () =>
        {
            var rows = await AliveRowsAsync(client, url);
            return rows?.Count == 1 && rows[0].GetProperty("restarts").GetInt32() == 1 && survivors.Contains(rows[0].GetProperty("nodeId").GetString()!);
        }, "the cluster restarts the actor from its stored record with no driver connected", TimeSpan.FromSeconds(90));

        await using var later = await Ray.InitAsync(cluster.Address, options);
        var found = await later.GetActorAsync<Counter>(name);
        Assert.Equal(5, await found.Task(c => c.Total()).Remote().GetAsync(Wait.Deadline));
        Assert.Contains(await found.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline), survivors);
    }

    [Fact]
    public async Task Calls_in_flight_from_a_caller_that_did_not_create_the_actor_are_retried_on_the_restarted_actor_or_fail_with_ActorDiedException()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        var options = new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false };
        var victim = cluster.Silos[1].NodeId;
        var survivor = cluster.Silos[0].NodeId;
        var prefix = Probe.NewKey()[..8];
        var onVictim = SchedulingStrategy.NodeAffinity(victim, soft: true);

        // The creator lives on, but does not call: the other driver's calls are the ones in flight.
        await using var creator = await Ray.InitAsync(cluster.Address, options);
        await Wait.UntilAsync(async () => (await creator.NodesAsync()).Count == 2, "both silo processes report");
        var retried = await creator.Actor(() => new Counter(1)).Options(new ActorOptions
        {
            Name = prefix + "-retried", MaxRestarts = 1, MaxTaskRetries = 1, SchedulingStrategy = onVictim,
        }).RemoteAsync().WaitAsync(Bound);
        var strict = await creator.Actor(() => new Counter(2)).Options(new ActorOptions
        {
            Name = prefix + "-strict", MaxRestarts = 1, MaxTaskRetries = 0, SchedulingStrategy = onVictim,
        }).RemoteAsync().WaitAsync(Bound);
        var mortal = await creator.Actor(() => new Counter(3)).Options(new ActorOptions
        {
            Name = prefix + "-mortal", SchedulingStrategy = onVictim,
        }).RemoteAsync().WaitAsync(Bound);

        await using var caller = await Ray.InitAsync(cluster.Address, options);
        var handles = new[] { "retried", "strict", "mortal" }.Select(n => caller.GetActorAsync<Counter>($"{prefix}-{n}")).ToList();
        var (byName, strictByName, mortalByName) = (await handles[0], await handles[1], await handles[2]);
        Assert.Equal(new[] { victim, victim, victim }, await caller.GetAsync(new[] { byName, strictByName, mortalByName }.Select(h => h.Task(c => c.Node()).Remote()), Wait.Deadline));

        var gate = Directory.CreateTempSubdirectory("rayorleans-supervision-").FullName;
        try
        {
            var calls = new[] { byName, strictByName, mortalByName }.Select(h => h.Task(c => c.WaitForFile(gate)).Remote()).ToList();
            await Wait.UntilAsync(() => FileGate.Started(gate) == 3, "the three calls run on the victim");
            cluster.Kill(1);
            FileGate.Open(gate); // the victim is gone: only a call sent again can pass

            // MaxTaskRetries = 1: the call runs again on the restarted actor, on the survivor.
            Assert.Equal(survivor, await calls[0].GetAsync(Bound));
            // MaxTaskRetries = 0: the call may have run, so it is not sent again.
            var e = await Assert.ThrowsAsync<ActorDiedException>(() => calls[1].GetAsync(Bound));
            Assert.Contains("MaxTaskRetries = 0", e.Message);
            // No restarts: the actor is dead, and says why.
            e = await Assert.ThrowsAsync<ActorDiedException>(() => calls[2].GetAsync(Bound));
            Assert.Contains("restart", e.Message);
        }
        finally
        {
            Directory.Delete(gate, recursive: true);
        }

        // Both handles, the caller's and the creator's, reach the restarted actors (fresh state), and the state
        // API counts the restart; the actor without restarts stays dead.
        Assert.Equal(1, await byName.Task(c => c.Total()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(2, await strictByName.Task(c => c.Total()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(survivor, await retried.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(survivor, await strict.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
        await Assert.ThrowsAsync<ActorDiedException>(() => mortal.Task(c => c.Total()).Remote().GetAsync(Wait.Deadline));
        var rows = await caller.ListActorsAsync(new ActorQuery { State = "ALIVE" });
        Assert.Equal(1, Assert.Single(rows, a => a.ActorId == retried.Id).Restarts);
        Assert.Equal(1, Assert.Single(rows, a => a.ActorId == strict.Id).Restarts);
    }
    [Fact]
    public async Task A_restarted_actor_avoids_its_supervisors_node_and_a_new_supervisor_avoids_the_actors_node()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 3, cpusPerSilo: 2);
        var options = new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false };
        await using var ray = await Ray.InitAsync(cluster.Address, options);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 3, "the three silo processes report");
        var first = cluster.Silos[0].NodeId;
        var actor = await ray.Actor(() => new Counter(1)).Options(new ActorOptions
        {
            MaxRestarts = 2, SchedulingStrategy = SchedulingStrategy.NodeAffinity(first, soft: true),
        }).RemoteAsync().WaitAsync(Bound);
        Assert.Equal(first, await actor.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
        var supervisor = (await StatusAsync(ray, actor.Id))!.SupervisorNode!;
        Assert.NotEqual(first, supervisor);
        var third = cluster.Silos.Select(s => s.NodeId).Single(n => n != first && n != supervisor);

        // The actor's node dies: its supervisor restarts it on the one node that is neither dead nor its own.
        cluster.Kill(0);
        ActorStatus? status = null;
        await Wait.UntilAsync(async () => (status = await StatusAsync(ray, actor.Id)) is { State: "ALIVE", Restarts: 1 }, "the actor is restarted", Bound);
        Assert.Equal(third, status!.Node);
        Assert.Equal(supervisor, status.SupervisorNode);
        Assert.Equal(third, await actor.Task(c => c.Node()).Remote().GetAsync(Bound));

        // A fresh node joins, then the supervisor's node dies: the actor publishes its record again, and the new
        // supervisor lands on the fresh node, not on the actor's own (asking the supervisor meanwhile may wake an
        // empty one anywhere: it must not keep the record on the actor's node).
        await cluster.StartSiloAsync(cpus: 2);
        var fresh = cluster.Silos[^1].NodeId;
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Select(n => n.NodeId).Order().SequenceEqual(new[] { supervisor, third, fresh }.Order()),
            "the fresh silo reports and the dead one is gone", Bound);
        cluster.Kill(cluster.Silos.FindIndex(s => s.NodeId == supervisor));
        await Wait.UntilAsync(async () => (status = await StatusAsync(ray, actor.Id)) is { Known: true, SupervisorNode: { } at } && at != supervisor,
            "the actor's record has a new supervisor", Bound);
        Assert.Equal(fresh, status!.SupervisorNode);
        Assert.Equal(third, status.Node);
        Assert.Equal(1, status.Restarts);
        Assert.Equal(3, await actor.Task(c => c.Add(2)).Remote().GetAsync(Bound));
    }

    /// <summary>
    /// The state API's rows, or null while it answers with an error: the listing asks every node, and fails while
    /// a killed one is not declared dead yet.
    /// </summary>
    private static async Task<List<JsonElement>?> AliveRowsAsync(HttpClient http, string url)
    {
        using var answer = await http.GetAsync(url);
        return answer.IsSuccessStatusCode
            ? JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList()
            : null;
    }

    /// <summary>The actor's supervisor's answer, or null while it cannot be reached (its node is being declared dead).</summary>
    private static async Task<ActorStatus?> StatusAsync(Ray ray, ActorId actor)
    {
        try
        {
            return await ray.Runtime.Grains.GetGrain<Grains.IActorSupervisorGrain>(actor.Value).StatusAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return null;
        }
    }
}
