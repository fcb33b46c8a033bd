using System.Runtime.CompilerServices;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Reference counting across processes: once a ref leaves its owner inside a value, the directory counts
/// who holds it (processes with live refs, objects containing it, actors), keeps the object while anyone
/// does (also after its owner exits) and frees every copy when the last holder goes.
/// </summary>
[Collection(TwoNodeCollection.Name)]
public sealed class ObjectLifetimeTests(TwoNodeCluster fixture)
{
    private const int Size = 200 * 1024 / sizeof(double); // above the inline threshold: a stored copy on a node
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_actor_holding_a_ref_keeps_the_object_after_its_owner_lets_go_and_the_last_holder_frees_it()
    {
        var ray = fixture.Ray;
        var keeper = await ray.Actor(() => new RefKeeper()).RemoteAsync();
        var id = await GiveAsync(ray, keeper);
        var driver = "process:" + ray.Runtime.Id;

        // The driver dropped its refs: only the actor's process holds the object now.
        var record = await CollectUntilAsync(ray, id, r => r is not null && !r.Holders.ContainsKey(driver), "the driver to let go of its reference");
        Assert.Equal(ray.Runtime.Id, record!.Owner);
        var holder = Assert.Single(record.Holders);
        Assert.StartsWith("process:", holder.Key);
        Assert.True(record.Pinned);
        Assert.Equal(Expected, await keeper.Task(k => k.Sum()).Remote().GetAsync(Limit));

        // The memory view names its owner, what made it, and the holder that keeps it.
        var listed = (await ray.MemoryAsync(top: 1000)).SelectMany(n => n.Largest).Single(o => o.Id == id);
        Assert.Equal(ray.Runtime.Id, listed.Owner);
        Assert.Equal("put", listed.Creator);
        Assert.Equal([holder.Key], listed.Holders.Keys);

        await keeper.Task(k => k.Drop()).Remote().GetAsync(Limit);
        await CollectUntilAsync(ray, id, r => r is null, "the directory to free the object once the actor let go");
        await Wait.UntilAsync(async () => !(await ray.MemoryAsync(top: 1000)).Any(n => n.Largest.Any(o => o.Id == id)), "its stored copy to be freed", Limit);
    }

    [Fact]
    public async Task A_directory_change_sent_again_after_a_timeout_counts_once()
    {
        var id = new ObjectId(Guid.NewGuid(), 1);
        var shard = fixture.Ray.Runtime.Directory(id.TaskId);
        var sender = "test-" + Guid.NewGuid().ToString("N");
        DirectoryOp[] addAndPublish =
        [
            new() { Kind = DirectoryOpKind.AddRef, Id = id, Holder = "process:a" },
            new() { Kind = DirectoryOpKind.Publish, Id = id, Value = new ObjectValue { Inline = [3], Size = 1 } },
        ];
        await shard.ApplyAsync(sender, 1, addAndPublish);
        await shard.ApplyAsync(sender, 1, addAndPublish); // the same message again, as a retry after a timeout sends it
        Assert.Equal(1, (await shard.DescribeAsync(id))!.Holders["process:a"]);

        // The next message counts; one release then leaves it held, the second frees it.
        await shard.ApplyAsync(sender, 2, [new() { Kind = DirectoryOpKind.AddRef, Id = id, Holder = "process:b" }]);
        var remove = new DirectoryOp { Kind = DirectoryOpKind.RemoveRef, Id = id, Holder = "process:a" };
        await shard.ApplyAsync(sender, 3, [remove]);
        await shard.ApplyAsync(sender, 3, [remove]);
        Assert.Equal(["process:b"], (await shard.DescribeAsync(id))!.Holders.Keys);
        await shard.ApplyAsync(sender, 4, [new() { Kind = DirectoryOpKind.RemoveRef, Id = id, Holder = "process:b" }]);
        Assert.Null(await shard.DescribeAsync(id));
    }

    [Fact]
    public async Task An_actor_built_from_a_ref_holds_it_until_it_dies_for_good()
    {
        var ray = fixture.Ray;
        var (keeper, id) = await BuildFromRefAsync(ray);
        var record = await CollectUntilAsync(ray, id, r => r is not null && !r.Holders.ContainsKey("process:" + ray.Runtime.Id), "the driver to let go of its reference");
        Assert.Contains(record!.Holders.Keys, k => k.StartsWith("actor:", StringComparison.Ordinal));
        Assert.Equal(Expected, await keeper.Task(k => k.Sum()).Remote().GetAsync(Limit));

        await ray.KillAsync(keeper, noRestart: true);
        await CollectUntilAsync(ray, id, r => r is null, "the object to be freed once the actor died for good");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(ActorHandle<RefKeeper> Keeper, ObjectId Id)> BuildFromRefAsync(Ray ray)
    {
        var stored = await ray.PutAsync(Enumerable.Range(0, Size).Select(i => (double)i).ToArray());
        var holder = new ArrayHolder(stored);
        return (await ray.Actor(() => new RefKeeper(holder)).RemoteAsync(), stored.Id);
    }

    [Fact]
    public async Task An_object_outlives_the_driver_that_owned_it_while_something_else_references_it()
    {
        await using var scene = await OwnerScene<RefKeeper>.StartAsync(() => new RefKeeper());
        var (host, keeper, name) = (scene.Host, scene.Keeper, scene.Name);
        ObjectId id;
        string ownerId;
        await using (var owner = await scene.ConnectOwnerAsync())
        {
            ownerId = owner.Runtime.Id;
            id = await GiveAsync(owner, await owner.GetActorAsync<RefKeeper>(name));
        }

        // Its owner has exited: the object is still there for the actor, and the directory says who made it.
        Assert.Equal(Expected, await keeper.Task(k => k.Sum()).Remote().GetAsync(Limit));
        var record = await host.Runtime.Directory(id.TaskId).DescribeAsync(id);
        Assert.Equal(ownerId, record!.Owner);
        Assert.DoesNotContain("process:" + ownerId, record.Holders.Keys);

        await keeper.Task(k => k.Drop()).Remote().GetAsync(Limit);
        await CollectUntilAsync(host, id, r => r is null, "the object to be freed when the actor let go");
        await Wait.UntilAsync(() => host.Runtime.LocalStore!.Used == 0, "the node's store to be empty", Limit);
    }

    [Fact]
    public async Task A_result_still_running_when_its_owner_exits_is_handed_to_its_node_and_reaches_the_refs_that_outlive_the_owner()
    {
        await using var scene = await OwnerScene<IntRefKeeper>.StartAsync(() => new IntRefKeeper());
        var (host, keeper, name) = (scene.Host, scene.Keeper, scene.Name);
        var key = Probe.NewKey();
        try
        {
            await using (var owner = await scene.ConnectOwnerAsync())
            {
                await KeepAsync(owner, name, owner.Task(TestTasks.Blocker, key).Remote());
                await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the task to start", Limit);
            }

            // The owner is gone; the actor waits for the result while the directory's checks (every 2 s) find
            // the node it was handed to alive; the task finishes later, and its node publishes the result.
            var read = keeper.Task(k => k.Read()).Remote();
            Assert.Empty((await host.WaitAsync([read], numReturns: 1, timeout: TimeSpan.FromSeconds(5))).Ready);
            Probe.Open(key);
            Assert.Equal(1, await read.GetAsync(Limit));
        }
        finally
        {
            Probe.Open(key);
        }
    }

    [Fact]
    public async Task A_result_that_cannot_be_handed_on_when_its_owner_exits_fails_for_its_readers_instead_of_hanging()
    {
        await using var scene = await OwnerScene<IntRefKeeper>.StartAsync(() => new IntRefKeeper());
        var (host, keeper, name) = (scene.Host, scene.Keeper, scene.Name);
        await using (var owner = await scene.ConnectOwnerAsync())
        {
            // No node offers "absent": the task waits in its owner as infeasible, so no node can take it over.
            var waiting = owner.Task(TestTasks.Square, 3).Options(new TaskOptions { Resources = new Dictionary<string, double> { ["absent"] = 1 } }).Remote();
            await KeepAsync(owner, name, waiting);
        }

        var e = await Assert.ThrowsAsync<ObjectLostException>(() => keeper.Task(k => k.Read()).Remote().GetAsync(Limit));
        Assert.Contains("owner", e.Message);
    }

    [Fact]
    public async Task A_result_whose_owner_dies_while_it_is_made_fails_for_its_readers_instead_of_hanging()
    {
        await using var scene = await OwnerScene<IntRefKeeper>.StartAsync(() => new IntRefKeeper());
        var (host, keeper, name) = (scene.Host, scene.Keeper, scene.Name);
        var key = Probe.NewKey();
        try
        {
            var owner = await scene.ConnectOwnerAsync();
            await KeepAsync(owner, name, owner.Task(TestTasks.Blocker, key).Remote());
            await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the task to start", Limit);
            await owner.AbandonAsync(); // as if its process died: nothing handed on

            // The actor waits on the directory, which finds the owner gone and fails the object (Ray's OwnerDiedError).
            var e = await Assert.ThrowsAsync<ObjectLostException>(() => keeper.Task(k => k.Read()).Remote().GetAsync(Limit));
            Assert.Contains("died", e.Message);
        }
        finally
        {
            Probe.Open(key);
        }
    }

    /// <summary>An embedded cluster with a named keeper actor, to which a second driver (the owner) connects.</summary>
    private sealed class OwnerScene<TKeeper> : IAsyncDisposable
        where TKeeper : class
    {
        private string _clusterId = "";

        public Ray Host { get; private set; } = null!;

        public ActorHandle<TKeeper> Keeper { get; private set; } = null!;

        public string Name { get; } = "keeper-" + Guid.NewGuid().ToString("N");

        public static async Task<OwnerScene<TKeeper>> StartAsync(System.Linq.Expressions.Expression<Func<TKeeper>> make)
        {
            var scene = new OwnerScene<TKeeper> { _clusterId = "lifetime-" + Guid.NewGuid().ToString("N") };
            scene.Host = await Ray.InitAsync(new RayInitOptions { NumCpus = 2, ClusterId = scene._clusterId });
            scene.Keeper = await scene.Host.Actor(make).Options(new ActorOptions { Name = scene.Name }).RemoteAsync();
            return scene;
        }

        /// <summary>A second driver on the same cluster, as an external client.</summary>
        public Task<Ray> ConnectOwnerAsync() => Ray.InitAsync(Host.Address!, new RayInitOptions { ClusterId = _clusterId });

        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }

    private static async Task KeepAsync(Ray owner, string keeperName, ObjectRef<int> result)
    {
        var handle = await owner.GetActorAsync<IntRefKeeper>(keeperName);
        var holder = new Holder("pending", result);
        Assert.Equal(1, await handle.Task(k => k.Keep(holder)).Remote().GetAsync(Limit));
    }

    private static double Expected => Size * (Size - 1) / 2.0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<ObjectId> GiveAsync(Ray ray, ActorHandle<RefKeeper> keeper)
    {
        var stored = await ray.PutAsync(Enumerable.Range(0, Size).Select(i => (double)i).ToArray());
        var holder = new ArrayHolder(stored);
        Assert.Equal(1, await keeper.Task(k => k.Keep(holder)).Remote().GetAsync(Limit));
        return stored.Id;
    }

    private static async Task<ObjectRecordInfo?> CollectUntilAsync(Ray ray, ObjectId id, Func<ObjectRecordInfo?, bool> condition, string what)
    {
        ObjectRecordInfo? record = null;
        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            record = await ray.Runtime.Directory(id.TaskId).DescribeAsync(id);
            return condition(record);
        }, what, Limit);
        return record;
    }
}
