using RayOrleans.Node;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// GPUs: work that needs them lands only on the node that declares them (the fixture's first node, with
/// GPUs "0" and "1"), and holds distinct GPU ids, or shares one for a fraction.
/// </summary>
[Collection(TwoNodeCollection.Name)]
public sealed class GpuTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    private async Task<string> GpuNodeAsync() => (await Ray.NodesAsync()).Single(n => n.Total[Messages.ResourceSet.Gpu] > 0).NodeId;

    [Fact]
    public async Task Tasks_needing_a_gpu_run_on_the_gpu_node_with_distinct_ids()
    {
        var gpuNode = await GpuNodeAsync();
        var key = Probe.NewKey();
        var oneGpu = new TaskOptions { NumGpus = 1, NumCpus = 0 };
        var refs = Enumerable.Range(0, 2).Select(_ => Ray.Task(TestTasks.HoldGpus, key).Options(oneGpu).Remote()).ToList();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 2, "both GPU tasks run at once");
        Probe.Open(key);

        var seen = (await Ray.GetAsync(refs, Wait.Deadline)).Select(s => s.Split('|')).ToList();
        Assert.All(seen, s => Assert.Equal(gpuNode, s[0]));
        Assert.Equal(["0", "1"], seen.Select(s => s[1]).Order(StringComparer.Ordinal).ToArray());

        // Outside a task there are none.
        Assert.Empty(Ray.GetGpuIds());
    }

    [Fact]
    public async Task Fractional_gpu_tasks_share_a_gpu_and_whole_ones_wait_for_a_free_one()
    {
        var key = Probe.NewKey();
        var half = new TaskOptions { NumGpus = 0.5, NumCpus = 0 };
        var halves = Enumerable.Range(0, 2).Select(_ => Ray.Task(TestTasks.HoldGpus, key).Options(half).Remote()).ToList();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 2, "both half-GPU tasks run at once");

        // Two halves pack onto one GPU, so the other is still whole for a 1-GPU task.
        var wholeKey = Probe.NewKey();
        var whole = Ray.Task(TestTasks.HoldGpus, wholeKey).Options(new TaskOptions { NumGpus = 1, NumCpus = 0 }).Remote();
        await Wait.UntilAsync(() => Probe.Count(wholeKey + ":started") == 1, "a whole GPU is still free");
        Probe.Open(key);
        Probe.Open(wholeKey);

        var halfIds = (await Ray.GetAsync(halves, Wait.Deadline)).Select(s => s.Split('|')[1]).Distinct().ToList();
        var wholeId = (await whole.GetAsync(Wait.Deadline)).Split('|')[1];
        Assert.Single(halfIds);
        Assert.NotEqual(halfIds[0], wholeId);
    }

    [Fact]
    public async Task Gpu_actors_hold_distinct_gpus_for_their_life()
    {
        var gpuNode = await GpuNodeAsync();
        var options = new ActorOptions { NumGpus = 1 };
        var actors = new[] { await Ray.Actor(() => new Counter()).Options(options).RemoteAsync(), await Ray.Actor(() => new Counter()).Options(options).RemoteAsync() };
        var nodes = await Ray.GetAsync(actors.Select(a => a.Task(c => c.Node()).Remote()), Wait.Deadline);
        var gpus = await Ray.GetAsync(actors.Select(a => a.Task(c => c.Gpus()).Remote()), Wait.Deadline);
        Assert.All(nodes, n => Assert.Equal(gpuNode, n));
        Assert.Equal(["0", "1"], gpus.Order(StringComparer.Ordinal).ToArray());

        // Killing one gives its GPU back: a task needing a whole GPU gets that one.
        await Ray.KillAsync(actors[0]);
        var key = Probe.NewKey();
        Probe.Open(key);
        var freed = await Ray.Task(TestTasks.HoldGpus, key).Options(new TaskOptions { NumGpus = 1, NumCpus = 0 }).Remote().GetAsync(Wait.Deadline);
        Assert.Equal(gpus[0], freed.Split('|')[1]);
        await Ray.KillAsync(actors[1]);
    }

    [Fact]
    public void Bad_gpu_demands_and_declarations_fail_with_the_value()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { NumGpus = 1.5 }));
        Assert.Contains("whole number", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Actor(() => new Counter()).Options(new ActorOptions { NumGpus = 2.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeOptions { NumGpus = 1.5 }.ResolveGpuIds());
        Assert.Throws<ArgumentException>(() => new NodeOptions { NumGpus = 2, GpuIds = ["0"] }.ResolveGpuIds());
        Assert.Equal(["3", "5"], new NodeOptions { GpuIds = ["3", "5"] }.ResolveGpuIds());
        Assert.Equal(2, new NodeOptions { NumGpus = 2 }.ResolveGpuIds().Count);
        Assert.Equal(["0", "2"], GpuDiscovery.ParseVisibleDevices("0, 2"));
        Assert.Empty(GpuDiscovery.ParseVisibleDevices("-1"));
        Assert.Empty(GpuDiscovery.ParseVisibleDevices(""));
    }
}
