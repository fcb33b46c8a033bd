using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;
using Xunit.Abstractions;

namespace RayOrleans.Tests;

/// <summary>
/// Directory shards are soft state: a node dies with the shards it hosted, and every process re-publishes what it
/// owns and holds, so the records come back on the survivors (readable, and still freed when the last ref goes), and
/// the objects nobody owns any more fail with <see cref="ObjectLostException"/> instead of leaving their readers waiting.
/// </summary>
public sealed class DirectoryRebuildTests(ITestOutputHelper output)
{
    /// <summary>Escaped objects the driver owns: enough that the re-publish is measured at a size worth noting.</summary>
    private const int Count = 10_000;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    /// <summary>How long a rebuild may take in these tests before they fail (alone: about 1 s in process, 20 s with processes).</summary>
    private static readonly TimeSpan RebuildDeadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Records_whose_shard_died_are_rebuilt_by_owners_and_holders_and_freed_when_the_last_ref_goes_and_ownerless_ones_fail_as_lost()
    {
        await using var cluster = await FreshCluster.StartAsync(configureRuntime: o => o.DirectoryRebuildWindow = Window);
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var survivor = cluster.Silos[0];
        var victim = cluster.Silos[1];
        var survivorNode = survivor.SiloAddress.ToParsableString();
        var victimNode = victim.SiloAddress.ToParsableString();

        // The driver's puts escape inside a value to an actor on the survivor: each is recorded with the driver as
        // its owner and two holders (the driver's process, and the survivor's, which borrowed them for the actor).
        var keeper = ray.Actor(() => new RefsKeeper()).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(survivorNode) }).Remote();
        var owned = new Box { Refs = await PutAllAsync(ray, Count) };
        Assert.Equal(Count, await keeper.Task(k => k.Keep(owned.Refs!)).Remote().GetAsync(Wait.Deadline));
        var ids = owned.Refs!.Select(r => r.Id).ToArray();
        var expectedSum = Enumerable.Range(0, Count).Sum(i => (long)i);

        // Objects owned by the victim's runtime, borrowed by the driver: their owner dies with the node.
        var orphans = await ray.Task(DrainTasks.PutManyHere, 64, 4).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victimNode) }).Remote().GetAsync(Wait.Deadline);

        Dictionary<ObjectId, ObjectRecordInfo> before = [];
        await Wait.UntilAsync(async () =>
        {
            before = await DescribeAsync(ray, ids);
            return before.Count == Count && before.Values.All(r => r is { Ready: true, Holders.Count: 2 });
        }, "every put is recorded with its two holders");
        var orphanRecords = await DescribeAsync(ray, orphans.Select(r => r.Id).ToArray());
        Assert.Equal(orphans.Length, orphanRecords.Count);
        var onVictim = before.Where(r => r.Value.Shard == victimNode).Select(r => r.Key).ToList();
        var orphansOnVictim = orphans.Where(r => orphanRecords[r.Id].Shard == victimNode).ToList();
        var orphansElsewhere = orphans.Where(r => orphanRecords[r.Id].Shard != victimNode).ToList();
        output.WriteLine($"{onVictim.Count} of {Count} puts and {orphansOnVictim.Count} of {orphans.Length} orphans are recorded by shards on the victim {victimNode}");
        // Shards are placed at random among the nodes: with 32 of them, both nodes host some.
        Assert.NotEmpty(onVictim);
        Assert.NotEmpty(orphansOnVictim);
        Assert.NotEmpty(orphansElsewhere);

        var clock = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);

        // Rebuilt from the driver (owner: value, owner, its hold) and the survivor (its hold): the same record on a
        // live shard. Records on shards that survived keep their counts (a hold re-published counts once).
        var nodeRuntime = survivor.ServiceProvider.GetRequiredService<NodeRuntime>().Runtime;
        // Bounded generously: with the whole suite running in parallel on 2 cores, the verdict on the victim and the
        // calls that fail on its dead shards take far longer than alone (about 1 s).
        await Wait.UntilAsync(() => ray.Runtime.LastRepublish.Rounds >= 1 && nodeRuntime.LastRepublish.Rounds >= 1,
            $"the driver and the survivor re-publish", RebuildDeadline);
        output.WriteLine($"driver re-published {ray.Runtime.LastRepublish.Objects} objects in {ray.Runtime.LastRepublish.Elapsed.TotalMilliseconds:0} ms; " +
                         $"the survivor {nodeRuntime.LastRepublish.Objects} in {nodeRuntime.LastRepublish.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(ray.Runtime.LastRepublish.Objects >= Count, $"the driver re-published {ray.Runtime.LastRepublish.Objects} objects, expected its {Count} escaped puts");
        Dictionary<ObjectId, ObjectRecordInfo> after = [];
        await Wait.UntilAsync(async () =>
        {
            after = await DescribeAsync(ray, ids);
            return after.Count == Count && after.All(a => a.Value.Ready && a.Value.Shard != victimNode && SameHolders(before[a.Key], a.Value));
        }, "every record is back, with the same owner and holders, on a live shard", RebuildDeadline);
        output.WriteLine($"records rebuilt {clock.Elapsed.TotalSeconds:0.0} s after the kill");
        Assert.All(onVictim, id => Assert.Equal(before[id].Owner, after[id].Owner)); // made again on a live shard, from the owner

        // Read by a process that does not own them (the actor's node): every value, from the rebuilt shards too.
        Assert.Equal(expectedSum, await keeper.Task(k => k.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(1)));

        // The victim's own objects: those on surviving shards still read (their value is in the record); those whose
        // shard died have no owner to publish them again and fail as lost once the window ends, not at the timeout.
        foreach (var orphan in orphansElsewhere)
        {
            Assert.Equal(4, (await orphan.GetAsync(Wait.Deadline)).Length);
        }

        foreach (var orphan in orphansOnVictim)
        {
            var lost = await Assert.ThrowsAsync<ObjectLostException>(() => orphan.GetAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains(orphan.Id.ToString(), lost.Message);
        }

        output.WriteLine($"ownerless objects failed as lost {clock.Elapsed.TotalSeconds:0.0} s after the kill");

        // After the window: the driver lets go; the survivor's holds keep every object (no early free).
        await Wait.UntilAsync(async () => (await DescribeAsync(ray, onVictim)).Values.All(r => !r.Rebuilding), "the rebuild window ends");
        Drop(owned);
        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var records = await DescribeAsync(ray, ids);
            return records.Count == Count && records.Values.All(r => r.Holders.Count == 1 && r.Holders.Keys.Single().StartsWith("process:" + survivorNode, StringComparison.Ordinal));
        }, "the driver's holds go, the survivor's stay");
        Assert.Equal(expectedSum, await keeper.Task(k => k.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(1)));

        // The last holder lets go: every record is freed, the rebuilt ones too (no leak).
        Assert.Equal(Count, await keeper.Task(k => k.Clear()).Remote().GetAsync(Wait.Deadline));
        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return (await DescribeAsync(ray, ids)).Count == 0;
        }, "every record is freed after the last ref goes", TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Silo_processes_on_Redis_one_killed_with_SIGKILL_rebuild_the_records_of_its_shards_from_the_driver_and_the_survivor()
    {
        const int count = 2_000;
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");
        var survivorNode = cluster.Silos[0].NodeId;
        var victimNode = cluster.Silos[1].NodeId;

        var keeper = ray.Actor(() => new RefsKeeper()).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(survivorNode) }).Remote();
        var owned = new Box { Refs = await PutAllAsync(ray, count) };
        Assert.Equal(count, await keeper.Task(k => k.Keep(owned.Refs!)).Remote().GetAsync(Wait.Deadline));
        var ids = owned.Refs!.Select(r => r.Id).ToArray();
        var expectedSum = Enumerable.Range(0, count).Sum(i => (long)i);
        var orphans = await ray.Task(DrainTasks.PutManyHere, 64, 4).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victimNode) }).Remote().GetAsync(Wait.Deadline);

        Dictionary<ObjectId, ObjectRecordInfo> before = [];
        await Wait.UntilAsync(async () =>
        {
            before = await DescribeAsync(ray, ids);
            return before.Count == count && before.Values.All(r => r is { Ready: true, Holders.Count: 2 });
        }, "every put is recorded with its two holders");
        var orphanRecords = await DescribeAsync(ray, orphans.Select(r => r.Id).ToArray());
        var onVictim = before.Where(r => r.Value.Shard == victimNode).Select(r => r.Key).ToList();
        var orphansOnVictim = orphans.Where(r => orphanRecords[r.Id].Shard == victimNode).ToList();
        output.WriteLine($"{onVictim.Count} of {count} puts and {orphansOnVictim.Count} of {orphans.Length} orphans are recorded by shards on the victim {victimNode}");
        Assert.NotEmpty(onVictim);
        Assert.NotEmpty(orphansOnVictim);

        var clock = Stopwatch.StartNew();
        cluster.Kill(1); // SIGKILL: the shards on it go with their records
        await Wait.UntilAsync(async () =>
        {
            var after = await DescribeAsync(ray, ids);
            return after.Count == count && after.All(a => a.Value.Ready && a.Value.Shard == survivorNode && SameHolders(before[a.Key], a.Value));
        }, "every record is back on the survivor, with the same owner and holders", TimeSpan.FromMinutes(2));
        output.WriteLine($"records rebuilt {clock.Elapsed.TotalSeconds:0.0} s after the kill; the driver re-published {ray.Runtime.LastRepublish.Objects} objects in {ray.Runtime.LastRepublish.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(expectedSum, await keeper.Task(k => k.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(1)));

        foreach (var orphan in orphansOnVictim)
        {
            var lost = await Assert.ThrowsAsync<ObjectLostException>(() => orphan.GetAsync(TimeSpan.FromMinutes(2)));
            Assert.Contains(orphan.Id.ToString(), lost.Message);
        }

        output.WriteLine($"ownerless objects failed as lost {clock.Elapsed.TotalSeconds:0.0} s after the kill");

        await Wait.UntilAsync(async () => (await DescribeAsync(ray, onVictim)).Values.All(r => !r.Rebuilding), "the rebuild window ends", TimeSpan.FromMinutes(1));
        Drop(owned);
        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var records = await DescribeAsync(ray, ids);
            return records.Count == count && records.Values.All(r => r.Holders.Count == 1 && r.Holders.Keys.Single().StartsWith("process:" + survivorNode, StringComparison.Ordinal));
        }, "the driver's holds go, the survivor's stay");
        Assert.Equal(expectedSum, await keeper.Task(k => k.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(1)));

        Assert.Equal(count, await keeper.Task(k => k.Clear()).Remote().GetAsync(Wait.Deadline));
        await Wait.UntilAsync(async () => (await DescribeAsync(ray, ids)).Count == 0, "every record is freed after the last ref goes", TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Holds_of_an_actors_constructor_refs_are_republished_by_its_node_so_what_only_the_actor_holds_outlives_its_shard()
    {
        const int count = 64;
        await using var cluster = await FreshCluster.StartAsync(configureRuntime: o => o.DirectoryRebuildWindow = Window);
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var survivorNode = cluster.Silos[0].SiloAddress.ToParsableString();
        var victimNode = cluster.Silos[1].SiloAddress.ToParsableString();

        // An actor on the survivor built from the driver's puts; it drops its own copies and the driver lets go, so
        // only the actor's hold (taken by its creator, kept for its restarts) keeps them.
        var (actor, ids) = await BuildFromPutsAsync(ray, survivorNode, count);
        Assert.Equal(count, await actor.Task(a => a.Drop()).Remote().GetAsync(Wait.Deadline));
        var actorHolder = "";
        Dictionary<ObjectId, ObjectRecordInfo> before = [];
        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            before = await DescribeAsync(ray, ids);
            actorHolder = before.Values.FirstOrDefault()?.Holders.Keys.FirstOrDefault() ?? "";
            return before.Count == count && before.Values.All(r => r is { Ready: true, Holders.Count: 1 } && r.Holders.ContainsKey(actorHolder));
        }, "only the actor's hold keeps the puts");
        Assert.StartsWith("actor:", actorHolder, StringComparison.Ordinal);
        var onVictim = before.Where(r => r.Value.Shard == victimNode).Select(r => r.Key).ToList();
        output.WriteLine($"{onVictim.Count} of {count} puts are recorded by shards on the victim {victimNode}");
        Assert.NotEmpty(onVictim);

        var clock = Stopwatch.StartNew();
        await cluster.KillSiloAsync(cluster.Silos[1]);

        // The owner (the driver) re-publishes the records, without a hold of its own; the actor's node re-publishes the
        // actor's hold, so the rebuilt records are held as before.
        await Wait.UntilAsync(async () =>
        {
            var after = await DescribeAsync(ray, onVictim);
            return after.Count == onVictim.Count && after.Values.All(r => r.Ready && r.Shard != victimNode && SameHolders(before[r.Id], r));
        }, "the records are back, held by the actor", RebuildDeadline);
        output.WriteLine($"records rebuilt with the actor's hold {clock.Elapsed.TotalSeconds:0.0} s after the kill");

        // After the window nothing was freed, and the actor, built again from the same refs, reads them all.
        await Wait.UntilAsync(async () => (await DescribeAsync(ray, onVictim)).Values.All(r => !r.Rebuilding), "the rebuild window ends", RebuildDeadline);
        Assert.Equal(count, (await DescribeAsync(ray, ids)).Count);
        await ray.KillAsync(actor, noRestart: false);
        Assert.Equal(Enumerable.Range(0, count).Sum(i => (long)i), await actor.Task(a => a.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(1)));

        // Dead for good: its hold goes, and every object with it, the rebuilt ones too.
        await actor.Task(a => a.Drop()).Remote().GetAsync(Wait.Deadline);
        await ray.KillAsync(actor, noRestart: true);
        await Wait.UntilAsync(async () => (await DescribeAsync(ray, ids)).Count == 0, "every object is freed once the actor died for good", TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Results_handed_off_by_an_exited_owner_are_republished_by_their_node_so_their_readers_wait_for_them_instead_of_failing_as_lost()
    {
        const int count = 24;
        await using var cluster = await FreshCluster.StartAsync(configureRuntime: o => o.DirectoryRebuildWindow = Window);
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var survivorNode = cluster.Silos[0].SiloAddress.ToParsableString();
        var victimNode = cluster.Silos[1].SiloAddress.ToParsableString();
        var name = "keeper-" + Guid.NewGuid().ToString("N");
        var keeper = await ray.Actor(() => new RefsKeeper())
            .Options(new ActorOptions { Name = name, SchedulingStrategy = SchedulingStrategy.NodeAffinity(survivorNode) }).RemoteAsync();
        var key = Probe.NewKey();
        try
        {
            // A second driver starts tasks on the survivor, gives their results to the keeper, and exits while they run:
            // it hands them to their node, which publishes the results when they end.
            ObjectId[] ids;
            await using (var owner = await Ray.AttachAsync(cluster.Client))
            {
                var pinned = new TaskOptions { NumCpus = 0, SchedulingStrategy = SchedulingStrategy.NodeAffinity(survivorNode) };
                var results = Enumerable.Range(0, count).Select(_ => owner.Task(TestTasks.Blocker, key).Options(pinned).Remote()).ToArray();
                var handle = await owner.GetActorAsync<RefsKeeper>(name);
                Assert.Equal(count, await handle.Task(k => k.Keep(results)).Remote().GetAsync(Wait.Deadline));
                await Wait.UntilAsync(() => Probe.Count(key + ":started") == count, "every task starts");
                ids = results.Select(r => r.Id).ToArray();
            }

            var before = await DescribeAsync(ray, ids);
            Assert.Equal(count, before.Count);
            Assert.All(before.Values, r => Assert.False(r.Ready));
            var onVictim = before.Where(r => r.Value.Shard == victimNode).Select(r => r.Key).ToList();
            output.WriteLine($"{onVictim.Count} of {count} handed-off results are recorded by shards on the victim {victimNode}");
            Assert.NotEmpty(onVictim);

            await cluster.KillSiloAsync(cluster.Silos[1]);

            // Rebuilt from the keeper's node (its holds) and the tasks' node (handed to it): after the window they
            // still wait for that node, rather than failing as objects no owner published again.
            await Wait.UntilAsync(async () =>
            {
                var after = await DescribeAsync(ray, onVictim);
                return after.Count == onVictim.Count && after.Values.All(r => r.Shard != victimNode && !r.Rebuilding);
            }, "the records are back and their rebuild window ended", TimeSpan.FromMinutes(1));
            Assert.All((await DescribeAsync(ray, onVictim)).Values, r => Assert.False(r.Ready, $"{r.Id} is {(r.Ready ? "ready (lost)" : "pending")}"));

            Probe.Open(key);
            Assert.Equal(count, await keeper.Task(k => k.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(1)));
        }
        finally
        {
            Probe.Open(key);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(ActorHandle<BuiltFromRefs> Actor, ObjectId[] Ids)> BuildFromPutsAsync(Ray ray, string node, int count)
    {
        var box = new RefsBox(await PutAllAsync(ray, count));
        var actor = await ray.Actor(() => new BuiltFromRefs(box))
            .Options(new ActorOptions { MaxRestarts = 1, SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) }).RemoteAsync();
        return (actor, box.Refs.Select(r => r.Id).ToArray());
    }

    private static bool SameHolders(ObjectRecordInfo before, ObjectRecordInfo after) =>
        before.Holders.Count == after.Holders.Count && before.Holders.All(h => after.Holders.TryGetValue(h.Key, out var n) && n == h.Value);

    /// <summary>The directory's records of <paramref name="ids"/> that it has; a shard not reachable yet leaves its ids out.</summary>
    private static async Task<Dictionary<ObjectId, ObjectRecordInfo>> DescribeAsync(Ray ray, IReadOnlyList<ObjectId> ids)
    {
        var records = new Dictionary<ObjectId, ObjectRecordInfo>();
        foreach (var chunk in ids.Chunk(500))
        {
            var described = await Task.WhenAll(chunk.Select(async id =>
            {
                try
                {
                    return await ray.Runtime.Directory(id.TaskId).DescribeAsync(id).WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    return null; // its shard's silo died and it is not activated again yet
                }
            }));
            foreach (var record in described)
            {
                if (record is not null)
                {
                    records[record.Id] = record;
                }
            }
        }

        return records;
    }

    private sealed class Box
    {
        public ObjectRef<int>[]? Refs;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<ObjectRef<int>[]> PutAllAsync(Ray ray, int count)
    {
        var refs = new ObjectRef<int>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = await ray.PutAsync(i);
        }

        return refs;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Drop(Box box) => box.Refs = null;
}
