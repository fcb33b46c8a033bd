using System.Diagnostics;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Placement groups survive node deaths, as with Ray's GCS fault tolerance: the group's record is kept in Redis
/// grain storage, so killing the silo its grain lives on loses nothing; a node holding bundles dying sends the
/// group to RESCHEDULING, and the lost bundles are reserved again on live nodes by the group's strategy, with
/// its restartable actors and retryable tasks following them. Real silo processes on Redis, SIGKILL.
/// </summary>
public sealed class PlacementGroupFailoverTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    private static Dictionary<string, double> Cpu(double amount) => new() { [ResourceSet.Cpu] = amount };

    private static RayInitOptions Options(ProcessCluster cluster) => new() { ClusterId = cluster.ClusterId, ShipCode = false };

    private static async Task<string> GrainSiloAsync(Ray ray, PlacementGroup group)
    {
        var management = ray.Runtime.Grains.GetGrain<IManagementGrain>(0);
        var address = await management.GetActivationAddress(ray.Runtime.PlacementGroup(group.Id));
        return address?.ToParsableString() ?? throw new InvalidOperationException($"Placement group {group.Id:N} has no activation.");
    }

    private static int SiloIndex(ProcessCluster cluster, string node) => cluster.Silos.FindIndex(s => s.NodeId == node);

    [Fact]
    public async Task Killing_the_silo_of_the_groups_grain_keeps_the_group_created_with_its_bundles_and_removable()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, Options(cluster));
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");

        // One bundle: the group's grain lives on the other silo about half the time; make a group until it does.
        PlacementGroup? group = null;
        string grainSilo = "", bundleNode = "";
        for (var attempt = 0; attempt < 16 && group is null; attempt++)
        {
            var candidate = await ray.PlacementGroupAsync([Cpu(1)], PlacementGroupStrategy.Pack, name: "kept-" + attempt);
            await candidate.ReadyAsync().WaitAsync(Bound);
            (grainSilo, bundleNode) = (await GrainSiloAsync(ray, candidate), (await candidate.InfoAsync()).BundleNodes[0]);
            if (grainSilo != bundleNode)
            {
                group = candidate;
            }
            else
            {
                await ray.RemovePlacementGroupAsync(candidate);
            }
        }

        Assert.NotNull(group);
        cluster.Kill(SiloIndex(cluster, grainSilo));

        // A new activation reads the record: still created, the bundle where it was; work runs in it.
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 1, "the killed silo leaves the cluster", Bound);
        var info = await group.InfoAsync().WaitAsync(Bound);
        Assert.Equal(PlacementGroupState.Created, info.State);
        Assert.Equal([bundleNode], info.BundleNodes);
        Assert.Equal(bundleNode, await ray.Task(TestTasks.WhereAmI, 0).Options(new TaskOptions { NumCpus = 1, SchedulingStrategy = group.Bundle(0) }).Remote().GetAsync(Bound));
        Assert.Equal(1, (await ray.NodesAsync()).Single().Available[ResourceSet.Cpu], 3);

        // Removal gives the bundle back, and finds the group by name still.
        Assert.Equal(group.Id, (await ray.GetPlacementGroupAsync(group.Name!)).Id);
        await ray.RemovePlacementGroupAsync(group);
        Assert.Equal(PlacementGroupState.Removed, (await group.InfoAsync()).State);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Single().Available[ResourceSet.Cpu] == 2, "the bundle's CPU is given back", Bound);
    }

    [Fact]
    public async Task A_bundle_lost_with_its_node_is_rescheduled_onto_a_new_node_and_its_actor_and_task_follow_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, Options(cluster));
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");

        // Each bundle fills its node, so the lost one has nowhere to go until a node joins.
        var group = await ray.PlacementGroupAsync([Cpu(2), Cpu(2)], PlacementGroupStrategy.Spread);
        await group.ReadyAsync().WaitAsync(Bound);
        var before = (await group.InfoAsync()).BundleNodes;
        var (survivor, victim) = (before[0], before[1]);
        Assert.NotEqual(survivor, victim);

        var actor = await ray.Actor(() => new Counter(7)).Options(new ActorOptions
        {
            NumCpus = 1, MaxRestarts = 1, SchedulingStrategy = group.Bundle(1),
        }).RemoteAsync().WaitAsync(Bound);
        Assert.Equal(victim, await actor.Task(c => c.Node()).Remote().GetAsync(Bound));

        var gate = Directory.CreateTempSubdirectory("rayorleans-pg-failover-").FullName;
        try
        {
            var task = ray.Task(FileGate.RunGated, gate).Options(new TaskOptions { NumCpus = 1, MaxRetries = 2, SchedulingStrategy = group.Bundle(1) }).Remote();
            await Wait.UntilAsync(() => FileGate.Started(gate) == 1, "the task runs in bundle 1", Bound);

            var clock = Stopwatch.StartNew();
            cluster.Kill(SiloIndex(cluster, victim));
            FileGate.Open(gate); // only the retry, in the re-placed bundle, can pass now

            PlacementGroupInfo info = null!;
            await Wait.UntilAsync(async () => (info = await group.InfoAsync()).State == PlacementGroupState.Rescheduling, "the group goes to rescheduling", Bound);
            var rescheduling = clock.Elapsed;
            Assert.Contains("bundle(s) 1", info.PendingReason);
            Assert.Equal(survivor, info.BundleNodes[0]);

            await cluster.StartSiloAsync(cpus: 2);
            var fresh = cluster.Silos[^1].NodeId;
            var joined = clock.Elapsed;
            await Wait.UntilAsync(async () => (info = await group.InfoAsync()).State == PlacementGroupState.Created, "the group is created again", Bound);
            var created = clock.Elapsed;
            Assert.Equal([survivor, fresh], info.BundleNodes);

            // The retried task and the restarted actor run in the re-placed bundle, on the new node.
            Assert.Equal(fresh, await task.GetAsync(Bound));
            await Wait.UntilAsync(async () => (await ray.ListActorsAsync(new ActorQuery { State = "ALIVE" })).Any(a => a.ActorId == actor.Id && a.Restarts == 1),
                "the actor is restarted", Bound);
            Assert.Equal(fresh, await actor.Task(c => c.Node()).Remote().GetAsync(Bound));
            Assert.Equal(8, await actor.Task(c => c.Add(1)).Remote().GetAsync(Bound));
            Console.WriteLine($"Placement group failover: SIGKILL to RESCHEDULING {rescheduling.TotalSeconds:0.0} s; new silo joined at {joined.TotalSeconds:0.0} s; CREATED again at {created.TotalSeconds:0.0} s ({(created - joined).TotalSeconds:0.0} s after the join).");
        }
        finally
        {
            Directory.Delete(gate, recursive: true);
        }
    }

    [Fact]
    public async Task Strict_spread_rescheduling_never_puts_two_bundles_on_one_node_and_waits_for_a_new_one()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, Options(cluster));
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");

        var group = await ray.PlacementGroupAsync([Cpu(1), Cpu(1)], PlacementGroupStrategy.StrictSpread);
        await group.ReadyAsync().WaitAsync(Bound);
        var before = (await group.InfoAsync()).BundleNodes;
        var clock = Stopwatch.StartNew();
        cluster.Kill(SiloIndex(cluster, before[1]));

        // The survivor has a free CPU, but it holds bundle 0: the group waits, infeasible, and says why.
        PlacementGroupInfo info = null!;
        await Wait.UntilAsync(async () => (info = await group.InfoAsync()) is { State: PlacementGroupState.Rescheduling, Infeasible: true },
            "the group waits in rescheduling, infeasible", Bound);
        Assert.Contains("STRICT_SPREAD", info.PendingReason);
        Assert.Equal(before[0], info.BundleNodes[0]);
        Assert.False(await group.WaitAsync(TimeSpan.FromMilliseconds(300)));

        await cluster.StartSiloAsync(cpus: 2);
        var fresh = cluster.Silos[^1].NodeId;
        await Wait.UntilAsync(async () => (info = await group.InfoAsync()).State == PlacementGroupState.Created, "the group is created on the new node", Bound);
        Assert.Equal([before[0], fresh], info.BundleNodes);
        Console.WriteLine($"STRICT_SPREAD failover: CREATED again {clock.Elapsed.TotalSeconds:0.0} s after the SIGKILL (a new silo's start included).");
        await ray.RemovePlacementGroupAsync(group);
    }
}
