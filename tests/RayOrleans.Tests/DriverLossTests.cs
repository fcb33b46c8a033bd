using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Drivers are tracked by heartbeat: one that goes without exiting has its job's non-detached actors killed
/// (Ray: non-detached actors go with their driver); detached ones live on; a clean exit is recorded as such.
/// </summary>
public sealed class DriverLossTests
{
    [Fact]
    public async Task A_lost_drivers_non_detached_actors_are_killed_and_its_detached_ones_live_on()
    {
        await using var cluster = await FreshCluster.StartAsync(configureRuntime: o =>
        {
            o.DriverHeartbeatInterval = TimeSpan.FromMilliseconds(250);
            o.DriverTimeout = TimeSpan.FromSeconds(2);
        });
        await using var observer = await FreshCluster.AttachAsync(cluster);
        var fast = new RuntimeOptions { DriverHeartbeatInterval = TimeSpan.FromMilliseconds(250), DriverTimeout = TimeSpan.FromSeconds(2) };
        var doomed = await Ray.AttachAsync(cluster.Client, new RayInitOptions { JobId = "doomed", Runtime = fast });
        var detachedName = "survivor-" + Probe.NewKey()[..8];
        var owned = doomed.Actor(() => new Counter(1)).Remote();
        var detached = doomed.Actor(() => new Counter(2)).Options(new ActorOptions { Name = detachedName, Lifetime = ActorLifetime.Detached }).Remote();
        Assert.Equal(1, await owned.Task(c => c.Total()).Remote());
        Assert.Equal(2, await detached.Task(c => c.Total()).Remote());

        var registry = cluster.Client.GetGrain<IJobRegistryGrain>(0);
        Assert.Contains(await registry.ListAsync(), j => j is { JobId: "doomed", Status: "RUNNING" });

        await doomed.AbandonAsync(); // as if its process died: no exit, no kills, no more heartbeats

        await Wait.UntilAsync(async () => (await observer.ListActorsAsync(new ActorQuery { JobId = "doomed", State = "DEAD" })).Any(a => a.ActorId == owned.Id),
            "the lost driver's non-detached actor is killed");
        var dead = Assert.Single(await observer.ListActorsAsync(new ActorQuery { JobId = "doomed", State = "DEAD" }), a => a.ActorId == owned.Id);
        Assert.Contains("driver is gone", dead.DeathCause);
        var survivor = Assert.Single(await observer.ListActorsAsync(new ActorQuery { Name = detachedName }));
        Assert.Equal("ALIVE", survivor.State);
        var job = Assert.Single(await registry.ListAsync(), j => j.JobId == "doomed");
        Assert.Equal("FAILED", job.Status);
        Assert.Contains("no heartbeat", job.Message);

        // A driver that exits cleanly is recorded as such.
        var tidy = await Ray.AttachAsync(cluster.Client, new RayInitOptions { JobId = "tidy", Runtime = fast });
        await tidy.DisposeAsync();
        Assert.Contains(await registry.ListAsync(), j => j is { JobId: "tidy", Status: "SUCCEEDED" });
        await observer.KillAsync(await observer.GetActorAsync<Counter>(detachedName));

        // A job stopped from outside (job stop) loses its non-detached actors at once, not after the timeout.
        var stopped = await Ray.AttachAsync(cluster.Client, new RayInitOptions { JobId = "stopped" });
        var victim = stopped.Actor(() => new Counter(3)).Remote();
        Assert.Equal(3, await victim.Task(c => c.Total()).Remote());
        Assert.Equal(1, await registry.StopAsync("stopped", "stopped by the test"));
        var killed = Assert.Single(await observer.ListActorsAsync(new ActorQuery { JobId = "stopped" }));
        Assert.Equal("DEAD", killed.State);
        Assert.Contains("stopped by the test", killed.DeathCause);
        Assert.Contains(await registry.ListAsync(), j => j is { JobId: "stopped", Status: "STOPPED" });
        await stopped.AbandonAsync();
    }
}
