using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

public sealed class EmbeddedTests
{
    [Fact]
    public async Task InitAsync_runs_tasks_actors_and_objects_in_process()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        Assert.NotNull(ray.NodeId);
        Assert.Equal(ray.NodeId, await ray.Task(TestTasks.WhereAmI, 0).Remote());
        var counter = ray.Actor(() => new Counter()).Remote();
        Assert.Equal(new[] { 0, 1, 3 }, await ray.GetAsync(Enumerable.Range(0, 3).Select(i => counter.Task(c => c.Add(i)).Remote())));
        Assert.Equal(3.0, await ray.Task(TestTasks.SumArray, await ray.PutAsync(new[] { 1.0, 2.0 })).Remote());
    }

    [Fact]
    public async Task Nested_tasks_100_levels_deep_complete_on_one_2_cpu_node()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        Assert.Equal(100, await ray.Task(TestTasks.Nest, 100).Remote().GetAsync(TimeSpan.FromMinutes(2)));
    }

    [Fact]
    public async Task Connecting_to_an_address_where_no_cluster_runs_fails_within_the_timeout()
    {
        var port = Hosting.FreePort.Next();
        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            Ray.InitAsync($"127.0.0.1:{port}", new RayInitOptions { ConnectTimeout = TimeSpan.FromSeconds(3) }));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
    }
}
