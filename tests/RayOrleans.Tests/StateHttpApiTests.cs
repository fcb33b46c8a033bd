using System.Net;
using System.Text.Json;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>The state API over HTTP on real silo processes: what <c>rayo list</c> and the dashboard read.</summary>
public sealed class StateHttpApiTests
{
    [Fact]
    public async Task Any_silo_lists_the_whole_clusters_tasks_actors_and_summary_with_filters()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, JobId = "http-test" });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");

        var squares = await ray.GetAsync(Enumerable.Range(0, 20).Select(i => ray.Task(TestTasks.WhereAmISlowly, i).Remote()), Wait.Deadline);
        var counter = ray.Actor(() => new Counter()).Options(new ActorOptions { Name = "http-counter" }).Remote();
        Assert.Equal(3, await counter.Task(c => c.Add(3)).Remote().GetAsync(Wait.Deadline));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{cluster.HttpPorts[0]}") };
        var tasks = await GetArrayAsync(http, "/api/tasks?name=TestTasks.WhereAmISlowly&state=FINISHED&jobId=http-test&limit=1000");
        Assert.Equal(20, tasks.Count);
        Assert.Equal(squares.ToHashSet(), tasks.Select(t => t.GetProperty("nodeId").GetString()!).ToHashSet()); // both nodes answered
        Assert.All(tasks, t => Assert.Equal("NORMAL_TASK", t.GetProperty("type").GetString()));

        Assert.Equal(5, (await GetArrayAsync(http, "/api/tasks?name=TestTasks.WhereAmISlowly&limit=5")).Count);
        var byNode = await GetArrayAsync(http, $"/api/tasks?nodeId={Uri.EscapeDataString(cluster.Silos[1].NodeId)}&name=TestTasks.WhereAmISlowly&limit=1000");
        Assert.All(byNode, t => Assert.Equal(cluster.Silos[1].NodeId, t.GetProperty("nodeId").GetString()));
        Assert.Equal(tasks.Count(t => t.GetProperty("nodeId").GetString() == cluster.Silos[1].NodeId), byNode.Count);

        var calls = await GetArrayAsync(http, $"/api/tasks?actorId={counter.Id.Value}");
        Assert.Equal("Counter.Add", Assert.Single(calls).GetProperty("name").GetString());

        var summary = await GetArrayAsync(http, "/api/tasks/summary");
        Assert.Contains(summary, s => s.GetProperty("name").GetString() == "TestTasks.WhereAmISlowly" && s.GetProperty("state").GetString() == "FINISHED" &&
                                      s.GetProperty("count").GetInt64() == 20);

        var actor = Assert.Single(await GetArrayAsync(http, "/api/actors?name=http-counter&state=alive"));
        Assert.Equal(counter.Id.Value.ToString(), actor.GetProperty("actorId").GetString());
        Assert.Equal("http-test", actor.GetProperty("jobId").GetString());

        // Bad filters are named, not ignored.
        var bad = await http.GetAsync("/api/tasks?colour=red");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("colour", await bad.Content.ReadAsStringAsync());
        bad = await http.GetAsync("/api/actors?limit=lots");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("limit", await bad.Content.ReadAsStringAsync());
    }

    private static async Task<List<JsonElement>> GetArrayAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.EnumerateArray().ToList();
    }
}
