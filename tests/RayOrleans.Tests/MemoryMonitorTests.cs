using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Node;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// The memory monitor with real memory: the node's threshold is set 1 GiB above what the machine uses when
/// the test starts (once that use has settled), and a task takes 3 GiB. It runs alone (its collection is not parallel), so other tests'
/// memory does not move the machine's use under it.
/// </summary>
[Collection(MemoryCollection.Name)]
public sealed class MemoryMonitorTests
{
    private const int HogMiB = 3 * 1024;

    [Fact]
    public async Task Under_memory_pressure_a_node_holds_new_work_and_cancels_its_newest_retryable_task()
    {
        // The machine's use must be settled first: processes of tests that just ended (silos, browsers) may still
        // be giving memory back, and a use that falls during the test would leave the 3 GiB task under the line.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var usage = MemoryUsage.Read() ?? throw new InvalidOperationException("no memory usage source on this machine");
        await Wait.UntilAsync(() =>
        {
            var before = usage;
            usage = MemoryUsage.Read()!.Value;
            return Math.Abs(usage.Used - before.Used) < 64L << 20;
        }, "the machine's memory use settles");
        var threshold = (usage.Used + 1.0 * (1L << 30)) / usage.Total;
        Assert.True(threshold < 0.9, $"the machine has too little free memory for this test ({usage.Used >> 20} of {usage.Total >> 20} MiB in use)");

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node =>
        {
            node.NumCpus = 2;
            node.MemoryUsageThreshold = threshold;
        }));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 1, "the node reports");

        // A task that may not be retried is never cancelled: while it holds the memory, new work waits.
        var held = Probe.NewKey();
        var hog = ray.Task(TestTasks.HoldMemory, held, HogMiB).Options(new TaskOptions { MaxRetries = 0 }).Remote();
        await Wait.UntilAsync(() => Probe.Count(held + ":holding") == 1, "the task holds its memory", TimeSpan.FromMinutes(1));
        var waiting = ray.Task(TestTasks.Square, 6).Remote();
        Assert.Empty((await ray.WaitAsync([waiting], timeout: TimeSpan.FromSeconds(2))).Ready);
        Probe.Open(held);
        Assert.Equal(HogMiB / 64, await hog.GetAsync(Wait.Deadline));
        Assert.Equal(36, await waiting.GetAsync(TimeSpan.FromMinutes(1))); // starts once the memory came back

        // A retryable one is cancelled on each try (it is the newest), then fails saying why.
        var retried = Probe.NewKey();
        var killed = ray.Task(TestTasks.HoldMemory, retried, HogMiB).Options(new TaskOptions { MaxRetries = 1 }).Remote();
        var e = await Assert.ThrowsAsync<NodeOutOfMemoryException>(() => killed.GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("memory monitor", e.Message);
        Assert.Contains("MemoryUsageThreshold", e.Message);
        Assert.Equal(2, Probe.Count(retried + ":started")); // the first try and its one retry

        // The node lives on and takes work again.
        Assert.Equal(49, await ray.Task(TestTasks.Square, 7).Remote().GetAsync(TimeSpan.FromMinutes(1)));
    }
}

/// <summary>Tests that measure the machine's memory: run with no other test at the same time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "memory";
}
