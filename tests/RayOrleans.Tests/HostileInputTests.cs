using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Wrong or hostile input gets a typed exception that names the problem, at the call site when it can be
/// known there, and leaves the cluster working (each test ends by running a task).
/// </summary>
[Collection(TwoNodeCollection.Name)]
public sealed class HostileInputTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.5)]
    public async Task A_negative_or_non_finite_demand_fails_at_the_call_site(double cpus)
    {
        var task = Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { NumCpus = cpus }));
        Assert.Contains("NumCpus", task.Message);
        var gpus = Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { NumGpus = cpus }));
        Assert.Contains("NumGpus", gpus.Message);
        var custom = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { Resources = new Dictionary<string, double> { ["accel"] = cpus } }));
        Assert.Contains("accel", custom.Message);
        var actor = Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Actor(() => new Counter()).Options(new ActorOptions { NumCpus = cpus }));
        Assert.Contains("NumCpus", actor.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { Memory = -1 }));
        await StillWorksAsync();
    }

    [Fact]
    public async Task A_function_the_worker_cannot_load_fails_its_get_naming_it()
    {
        var spec = new TaskSpec
        {
            TaskId = Guid.NewGuid(), Function = "M|No.Such.Assembly.Type, No.Such.Assembly|Run||", Name = "Type.Run", Args = [],
            Resources = new ResourceSet(new Dictionary<string, double> { [ResourceSet.Cpu] = 1 }),
        };
        Ray.Runtime.SubmitTask(spec);
        var result = new ObjectRef<int>(new ObjectId(spec.TaskId, 1), Ray.Runtime);
        var e = await Assert.ThrowsAsync<RayTaskException>(() => result.GetAsync(Wait.Deadline));
        Assert.Contains("No.Such.Assembly", e.Message);
        await StillWorksAsync();
    }

    [Fact]
    public async Task A_get_with_a_timeout_names_the_object_and_the_time()
    {
        var key = Probe.NewKey();
        var blocked = Ray.Task(TestTasks.Blocker, key).Remote();
        try
        {
            var e = await Assert.ThrowsAsync<GetTimeoutException>(() => blocked.GetAsync(TimeSpan.FromMilliseconds(100)));
            Assert.Contains(blocked.Id.ToString(), e.Message);
            Assert.Contains("0.1 s", e.Message);
        }
        finally
        {
            Probe.Open(key);
        }

        Assert.Equal(1, await blocked.GetAsync(Wait.Deadline));
        await StillWorksAsync();
    }

    [Fact]
    public async Task An_argument_larger_than_a_message_may_be_goes_by_reference()
    {
        // 160 MB, past Orleans' default message body limit (100 MB): it must travel through the object store.
        var big = new long[20_000_000];
        big[^1] = 7;
        Assert.Equal(7, await Ray.Task(TestTasks.SumLongs, big).Remote().GetAsync(TimeSpan.FromMinutes(1)));

        // The same for an actor's constructor, and for a method's argument.
        var actor = await Ray.Actor(() => new ArrayActor(big)).RemoteAsync();
        Assert.Equal(7, await actor.Task(a => a.Last()).Remote().GetAsync(TimeSpan.FromMinutes(1)));
        var counter = Ray.Actor(() => new Counter()).Remote();
        Assert.Equal(20_000_000, await counter.Task(c => c.CountLongs(big)).Remote().GetAsync(TimeSpan.FromMinutes(1)));
        await StillWorksAsync();
    }

    [Fact]
    public async Task A_large_argument_passed_through_the_store_is_freed_when_its_task_is_done()
    {
        var before = (await Ray.MemoryAsync(0)).Sum(n => n.Count);
        var big = new long[1_000_000]; // 8 MB: over MaxInlineArgumentBytes, so it is stored on a node first
        big[0] = 5;
        Assert.Equal(5, await Ray.Task(TestTasks.SumLongs, big).Remote().GetAsync(Wait.Deadline));
        await Wait.UntilAsync(async () => (await Ray.MemoryAsync(0)).Sum(n => n.Count) <= before, "the argument's stored copy is freed");
    }

    [Fact]
    public async Task A_second_actor_with_a_taken_name_fails_naming_the_name()
    {
        var name = "dup-" + Probe.NewKey();
        await Ray.Actor(() => new Counter()).Options(new ActorOptions { Name = name, Namespace = "hostile" }).RemoteAsync();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Ray.Actor(() => new Counter()).Options(new ActorOptions { Name = name, Namespace = "hostile" }).RemoteAsync());
        Assert.Contains(name, e.Message);
        await StillWorksAsync();
    }

    private async Task StillWorksAsync() => Assert.Equal(49, await Ray.Task(TestTasks.Square, 7).Remote().GetAsync(Wait.Deadline));
}

/// <summary>Bad input to <c>Ray.InitAsync</c> and to a small embedded object store.</summary>
public sealed class HostileInitTests
{
    [Theory]
    [InlineData("redis://")]
    [InlineData("127.0.0.1:notaport")]
    [InlineData("::::")]
    [InlineData("host:70000")]
    public async Task A_malformed_address_fails_naming_it(string address)
    {
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => Ray.InitAsync(address, new RayInitOptions { ConnectTimeout = TimeSpan.FromSeconds(5) }));
        Assert.Contains(address.Length > 8 ? address[..8] : address, e.Message);
    }

    [Fact]
    public async Task A_put_larger_than_the_store_fails_with_ObjectStoreFullException()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 1, ObjectStoreMemory = 16 << 20 });
        var e = await Assert.ThrowsAsync<ObjectStoreFullException>(() => ray.PutAsync(new byte[64 << 20]));
        Assert.Contains("more than this node's whole object store", e.Message);
        Assert.Equal(4, (await ray.PutAsync(new byte[4 << 20])) is { } small ? (await small.GetAsync(Wait.Deadline)).Length >> 20 : 0);
    }
}
