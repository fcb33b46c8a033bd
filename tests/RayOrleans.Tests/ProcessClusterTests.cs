using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>Two real silo processes joined through Redis, a driver connected by address.</summary>
public sealed class ProcessClusterTests
{
    [Fact]
    public async Task A_driver_runs_tasks_and_actors_on_two_silo_processes_and_survives_a_kill_9()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");
        var nodeIds = cluster.Silos.Select(s => s.NodeId).ToHashSet();

        var nodes = await ray.GetAsync(Enumerable.Range(0, 20).Select(i => ray.Task(TestTasks.WhereAmISlowly, i).Remote()), Wait.Deadline);
        Assert.Equal(nodeIds, nodes.ToHashSet());

        var counter = ray.Actor(() => new Counter()).Remote();
        Assert.Equal(new[] { 0, 1, 3, 6 }, await ray.GetAsync(Enumerable.Range(0, 4).Select(i => counter.Task(c => c.Add(i)).Remote()), Wait.Deadline));

        // Four gated tasks fill both nodes; one node is killed with SIGKILL; its two tasks run again on the other.
        var folder = Directory.CreateTempSubdirectory("ray-gate-").FullName;
        try
        {
            var gated = Enumerable.Range(0, 4).Select(_ => ray.Task(FileGate.RunGated, folder).Remote()).ToList();
            await Wait.UntilAsync(() => FileGate.Started(folder) == 4, "four gated tasks run");
            cluster.Kill(1);
            FileGate.Open(folder);
            var ranOn = await ray.GetAsync(gated, TimeSpan.FromMinutes(2));
            Assert.All(ranOn, n => Assert.Equal(cluster.Silos[0].NodeId, n));
            // The two lost tasks started again. Retries are at-least-once, as in Ray: a task that was on its
            // way from the dead node to the live one when it died may start once more, never fewer.
            Assert.InRange(FileGate.Started(folder), 6, 8);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
