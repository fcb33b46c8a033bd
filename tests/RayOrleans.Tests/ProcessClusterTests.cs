using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>Real silo processes joined through Redis, a driver connected by address.</summary>
public sealed class ProcessClusterTests
{
    [Fact]
    public async Task Three_silo_processes_take_spread_tasks_actors_and_a_StrictSpread_group_from_an_external_driver()
    {
        // Without shared memory between them, as if on separate hosts: large objects move in chunks over Orleans.
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 1, sameHostShm: false);
        await cluster.StartSiloAsync(cpus: 1, labelsJson: """{"zone": "c"}""");
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 3, "three silo processes report");
        var nodeIds = cluster.Silos.Select(s => s.NodeId).ToHashSet();

        // A 40 MB array made on the first process is pulled in 8 MiB chunks by a task on the second.
        const int n = 5_000_000;
        var first = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(cluster.Silos[0].NodeId) };
        var second = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(cluster.Silos[1].NodeId) };
        var made = ray.Task(TestTasks.MakeArray, n).Options(first).Remote();
        var summed = await ray.Task(TestTasks.SumArraySlowly, made).Options(second).Remote().GetAsync(Wait.Deadline);
        Assert.Equal($"{cluster.Silos[1].NodeId}={(double)n * (n - 1) / 2}", summed);

        // --labels reaches the scheduler: work asking for zone c runs on the third process only.
        var zoneC = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeLabels(new Dictionary<string, string> { ["zone"] = "c" }) };
        var inZoneC = await ray.GetAsync(Enumerable.Range(0, 4).Select(i => ray.Task(TestTasks.WhereAmI, i).Options(zoneC).Remote()), Wait.Deadline);
        Assert.All(inZoneC, n => Assert.Equal(cluster.Silos[2].NodeId, n));

        var spread = new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread };
        var where = await ray.GetAsync(Enumerable.Range(0, 9).Select(i => ray.Task(TestTasks.WhereAmISlowly, i).Options(spread).Remote()), Wait.Deadline);
        Assert.Equal(nodeIds, where.ToHashSet());

        var actors = Enumerable.Range(0, 3)
            .Select(i => ray.Actor(() => new Counter(i)).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.Spread }).Remote())
            .ToList();
        Assert.Equal(nodeIds, (await ray.GetAsync(actors.Select(a => a.Task(c => c.Node()).Remote()), Wait.Deadline)).ToHashSet());
        Assert.Equal(new[] { 10, 11, 12 }, await ray.GetAsync(actors.Select(a => a.Task(c => c.Add(10)).Remote()), Wait.Deadline));

        // One whole-CPU bundle on each process; a task in each bundle runs on that bundle's process.
        var group = await ray.PlacementGroupAsync(
            [new() { ["CPU"] = 1 }, new() { ["CPU"] = 1 }, new() { ["CPU"] = 1 }], PlacementGroupStrategy.StrictSpread);
        await group.ReadyAsync().WaitAsync(Wait.Deadline);
        var bundles = (await group.InfoAsync()).BundleNodes;
        Assert.Equal(nodeIds, bundles.ToHashSet());
        var inBundles = await ray.GetAsync(Enumerable.Range(0, 3).Select(i =>
            ray.Task(TestTasks.WhereAmI, i).Options(new TaskOptions { SchedulingStrategy = group.Bundle(i) }).Remote()), Wait.Deadline);
        Assert.Equal(bundles, inBundles);

        // The status over HTTP shows three nodes with no CPU free while the group holds them all.
        using (var http = new HttpClient())
        {
            var status = await http.GetStringAsync($"http://127.0.0.1:{cluster.HttpPorts[2]}/api/status");
            Assert.All(nodeIds, id => Assert.Contains(id, status));
        }

        await ray.RemovePlacementGroupAsync(group);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).All(n => n.Available[Messages.ResourceSet.Cpu] >= 1 - 1e-6), "the bundles' CPUs are back");
    }

    [Fact]
    public async Task A_driver_runs_tasks_and_actors_on_two_silo_processes_and_survives_a_kill_9()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");
        var nodeIds = cluster.Silos.Select(s => s.NodeId).ToHashSet();

        var nodes = await ray.GetAsync(Enumerable.Range(0, 20).Select(i => ray.Task(TestTasks.WhereAmISlowly, i).Remote()), Wait.Deadline);
        Assert.Equal(nodeIds, nodes.ToHashSet());

        // A 300 MB result made on one silo process is pulled in chunks by a task on the other. Where tasks run
        // is the scheduler's choice: rounds of four go out until one lands away from the array's node.
        const int n = 300_000_000 / sizeof(double);
        var made = ray.Task(TestTasks.MakeArray, n).Remote();
        await made.GetAsync(TimeSpan.FromMinutes(1)); // ready, so the owner's record says where it is stored
        Assert.True(ray.Runtime.Owned.TryGetReady(made.Id, out var record) && record.Location is not null);
        var pulledElsewhere = false;
        for (var round = 0; round < 5 && !pulledElsewhere; round++)
        {
            var sums = await ray.GetAsync(Enumerable.Range(0, 4).Select(_ => ray.Task(TestTasks.SumArraySlowly, made).Remote()), TimeSpan.FromMinutes(2));
            Assert.All(sums, s => Assert.EndsWith($"={(double)n * (n - 1) / 2}", s));
            pulledElsewhere = sums.Any(s => s[..s.LastIndexOf('=')] != record.Location);
        }

        Assert.True(pulledElsewhere, $"no task ran away from node {record.Location}, which stores the array");

        // The memory view over HTTP lists both nodes, and the array among the largest objects of its node.
        using (var http = new HttpClient())
        {
            var memory = await http.GetStringAsync($"http://127.0.0.1:{cluster.HttpPorts[0]}/api/memory?top=5");
            Assert.All(nodeIds, id => Assert.Contains(id, memory));
            Assert.Contains(made.Id.TaskId.ToString(), memory);
        }

        var counter = ray.Actor(() => new Counter()).Remote();
        Assert.Equal(new[] { 0, 1, 3, 6 }, await ray.GetAsync(Enumerable.Range(0, 4).Select(i => counter.Task(c => c.Add(i)).Remote()), Wait.Deadline));

        // Four gated tasks fill both nodes; one node is killed with SIGKILL; its two tasks run again on the other.
        var folder = Directory.CreateTempSubdirectory("ray-gate-").FullName;
        try
        {
            var gated = Enumerable.Range(0, 4).Select(_ => ray.Task(FileGate.RunGated, folder).Remote()).ToList();
            await Wait.UntilAsync(() => FileGate.Started(folder) == 4, "four gated tasks run");
            var killed = cluster.Silos[1].Process.Id;
            Assert.Single(Directory.GetDirectories(cluster.StoreDirectory, $"*-{killed}"));
            cluster.Kill(1);
            FileGate.Open(folder);
            var ranOn = await ray.GetAsync(gated, TimeSpan.FromMinutes(2));
            Assert.All(ranOn, n => Assert.Equal(cluster.Silos[0].NodeId, n));
            // The two lost tasks started again. Retries are at-least-once, as in Ray: a task that was on its
            // way from the dead node to the live one when it died may start once more, never fewer.
            Assert.InRange(FileGate.Started(folder), 6, 8);

            // The killed node's shared-memory folder outlived it; the next node to start on the machine removes it.
            Assert.Single(Directory.GetDirectories(cluster.StoreDirectory, $"*-{killed}"));
            await cluster.StartSiloAsync(cpus: 1);
            Assert.Empty(Directory.GetDirectories(cluster.StoreDirectory, $"*-{killed}"));
            Assert.Equal(2, Directory.GetDirectories(cluster.StoreDirectory).Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
