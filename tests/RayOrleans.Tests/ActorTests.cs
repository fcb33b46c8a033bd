using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

[Collection(TwoNodeCollection.Name)]
public sealed class ActorTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task The_seed_counter_returns_running_sums()
    {
        var counter = Ray.Actor(() => new Counter()).Remote();
        int[] sums = await Ray.GetAsync(Enumerable.Range(0, 10).Select(i => counter.Task(c => c.Add(i)).Remote()));
        Assert.Equal([0, 1, 3, 6, 10, 15, 21, 28, 36, 45], sums);
    }

    [Fact]
    public async Task Actors_are_placed_on_both_nodes()
    {
        var actors = Enumerable.Range(0, 8).Select(i => Ray.Actor(() => new Counter(i)).Remote()).ToList();
        var nodes = await Ray.GetAsync(actors.Select(a => a.Task(c => c.Node()).Remote()));
        Assert.Equal(2, nodes.Distinct().Count());
        foreach (var actor in actors)
        {
            await Ray.KillAsync(actor);
        }
    }

    [Fact]
    public async Task Constructor_arguments_async_methods_and_ref_arguments_work()
    {
        var counter = Ray.Actor(() => new Counter(100)).Remote();
        Assert.Equal(105, await counter.Task(c => c.AddLaterAsync(5)).Remote());
        var five = Ray.Task(TestTasks.Square, 3).Remote();
        Assert.Equal(114, await counter.Task((c, x) => c.Add(x), five).Remote());
    }

    [Fact]
    public async Task An_exception_in_a_method_fails_that_call_and_the_actor_lives_on()
    {
        var counter = Ray.Actor(() => new Counter()).Remote();
        var e = await Assert.ThrowsAsync<RayTaskException>(() => counter.Task(c => c.Throw()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(typeof(ArgumentException).FullName, e.RemoteExceptionType);
        Assert.Equal("Counter.Throw", e.TaskName);
        Assert.Equal(2, await counter.Task(c => c.Add(2)).Remote());
    }

    [Fact]
    public async Task Handles_passed_to_tasks_and_actors_call_the_same_actor()
    {
        var counter = Ray.Actor(() => new Counter()).Remote();
        var other = Ray.Actor(() => new Counter()).Remote();
        Assert.Equal(5, await Ray.Task(TestTasks.UseCounterAsync, counter, 5).Remote());
        Assert.Equal(12, await other.Task(c => c.AddThrough(counter, 7)).Remote());
        Assert.Equal(12, await counter.Task(c => c.Total()).Remote());
    }

    [Fact]
    public async Task Named_actors_are_found_by_name_and_names_are_unique()
    {
        var name = "counter-" + Probe.NewKey();
        var counter = await Ray.Actor(() => new Counter(7)).Options(new ActorOptions { Name = name, Namespace = "tests" }).RemoteAsync();
        var found = await Ray.GetActorAsync<Counter>(name, "tests");
        Assert.Equal(counter.Id, found.Id);
        Assert.Equal(8, await found.Task(c => c.Add(1)).Remote());

        await Assert.ThrowsAsync<ArgumentException>(() => Ray.Actor(() => new Counter()).Options(new ActorOptions { Name = name, Namespace = "tests" }).RemoteAsync());
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Ray.GetActorAsync<Counter>(name, "other-namespace"));
    }

    [Fact]
    public async Task Calls_to_a_killed_actor_fail_with_ActorDiedException()
    {
        var counter = Ray.Actor(() => new Counter()).Remote();
        Assert.Equal(1, await counter.Task(c => c.Add(1)).Remote());
        await Ray.KillAsync(counter);
        var e = await Assert.ThrowsAsync<ActorDiedException>(() => counter.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
        Assert.Contains("killed", e.Message);
    }

    [Fact]
    public async Task A_killed_actor_restarts_while_MaxRestarts_allows()
    {
        var counter = Ray.Actor(() => new Counter(10)).Options(new ActorOptions { MaxRestarts = 1 }).Remote();
        Assert.Equal(15, await counter.Task(c => c.Add(5)).Remote());
        await Ray.KillAsync(counter, noRestart: false);
        Assert.Equal(11, await counter.Task(c => c.Add(1)).Remote()); // a fresh instance from the same arguments
        await Ray.KillAsync(counter, noRestart: false);
        await Assert.ThrowsAsync<ActorDiedException>(() => counter.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
    }

    [Fact]
    public async Task A_constructor_that_throws_makes_calls_fail_with_the_cause()
    {
        var broken = Ray.Actor(() => new Broken("no disk")).Remote();
        var e = await Assert.ThrowsAsync<ActorDiedException>(() => broken.Task(b => b.Ping()).Remote().GetAsync(Wait.Deadline));
        Assert.Contains("no disk", e.Message);
    }

    [Fact]
    public async Task MaxConcurrency_above_one_runs_calls_at_the_same_time()
    {
        var actor = Ray.Actor(() => new Rendezvous()).Options(new ActorOptions { MaxConcurrency = 2 }).Remote();
        var calls = new[] { actor.Task(r => r.Meet()).Remote(), actor.Task(r => r.Meet()).Remote() };
        Assert.Equal(new[] { 2, 2 }, await Ray.GetAsync(calls, Wait.Deadline));
    }

    [Fact]
    public async Task An_actor_holds_its_resources_while_alive()
    {
        var accel = new Dictionary<string, double> { ["accel"] = 1 };
        var holder = await Ray.Actor(() => new Counter()).Options(new ActorOptions { Resources = accel }).RemoteAsync();
        var key = Probe.NewKey();
        var task = Ray.Task(TestTasks.MarkRan, key).Options(new TaskOptions { Resources = accel }).Remote();
        var early = await Ray.WaitAsync([task], timeout: TimeSpan.FromMilliseconds(300));
        Assert.Empty(early.Ready); // the only "accel" is held by the actor
        await Ray.KillAsync(holder);
        Assert.Equal(1, await task.GetAsync(Wait.Deadline));
    }

    [Fact]
    public async Task Non_detached_actors_die_with_their_driver_and_detached_ones_live_on()
    {
        var second = await Ray.AttachAsync(fixture.Cluster.Client);
        var owned = second.Actor(() => new Counter()).Remote();
        var detached = second.Actor(() => new Counter()).Options(new ActorOptions { Lifetime = ActorLifetime.Detached }).Remote();
        Assert.Equal(1, await owned.Task(c => c.Add(1)).Remote());
        Assert.Equal(1, await detached.Task(c => c.Add(1)).Remote());
        await second.DisposeAsync();

        var ownedAgain = new ActorHandle<Counter>(owned.Id, Ray.Runtime);
        var detachedAgain = new ActorHandle<Counter>(detached.Id, Ray.Runtime);
        await Assert.ThrowsAsync<ActorDiedException>(() => ownedAgain.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(2, await detachedAgain.Task(c => c.Add(1)).Remote());
        await Ray.KillAsync(detachedAgain);
    }
}
