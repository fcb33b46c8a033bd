using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Lineage reconstruction: when the only copy of a task's result dies with its node, the owner runs the task
/// again to make it (as Ray does, within MaxRetries); what cannot be made again fails with
/// <see cref="ObjectLostException"/> naming why and what made it.
/// </summary>
public sealed class LineageTests
{
    private const int Length = 100_000; // 800 KB: stored in the node's shared-memory store, not inlined
    private static readonly long Sum = (long)Length * (Length - 1) / 2;

    [Fact]
    public async Task Results_lost_with_their_node_are_rebuilt_or_fail_with_ObjectLostException()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);

        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var onVictim = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victimNode, soft: true) };
        var key = Probe.NewKey();

        // Three results stored on the victim: one read after the loss, one used as an argument after it,
        // and one whose task may not run again.
        var read = ray.Task(TestTasks.CountedLongs, key + ":read", Length).Options(onVictim).Remote();
        var argument = ray.Task(TestTasks.CountedLongs, key + ":arg", Length).Options(onVictim).Remote();
        var once = ray.Task(TestTasks.CountedLongs, key + ":once", Length).Options(onVictim with { MaxRetries = 0 }).Remote();
        var heavy = ray.Task(TestTasks.SumThenCount, new double[200_000], key + ":heavy", Length).Options(onVictim).Remote();
        var where = await ray.Task(TestTasks.WhereAmI, 0).Options(onVictim).Remote();
        Assert.Equal(victimNode, where);
        await ray.WaitAsync([read, argument, once, heavy], numReturns: 4, timeout: Wait.Deadline);
        Assert.Equal(Sum, (await read).Sum());

        await cluster.KillSiloAsync(victim);

        // The get finds the copy gone and the owner runs the task again, on the survivor.
        var rebuilt = await read.GetAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(Length, rebuilt.Length);
        Assert.Equal(Sum, rebuilt.Sum());
        Assert.Equal(2, Probe.Count(key + ":read"));

        // A task whose argument was lost: the argument is made again first, then the task runs.
        Assert.Equal(Sum, await ray.Task(TestTasks.SumLongs, argument).Remote().GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(2, Probe.Count(key + ":arg"));

        // Arguments by value over MaxLineageArgumentBytes (1 MiB): no lineage kept, and the error says so.
        var tooBig = await Assert.ThrowsAsync<ObjectLostException>(() => heavy.GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("MaxLineageArgumentBytes", tooBig.Message);

        // MaxRetries = 0: not run again, and the error says which object, why, and what made it.
        var e = await Assert.ThrowsAsync<ObjectLostException>(() => once.GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(once.Id, e.ObjectId);
        Assert.Contains("MaxRetries = 0", e.Message);
        Assert.Contains(nameof(TestTasks.CountedLongs), e.Message);
        Assert.Equal(1, Probe.Count(key + ":once"));
    }

    [Fact]
    public async Task A_borrower_that_finds_the_copy_lost_with_its_node_has_the_owner_make_it_again()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var survivorNode = cluster.Silos[0].SiloAddress.ToParsableString();
        var onVictim = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victimNode, soft: true) };
        var key = Probe.NewKey();
        var keeper = await ray.Actor(() => new LongsKeeper()).Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(survivorNode) }).RemoteAsync();

        // A result stored on the victim, shared with the actor (its borrower); its directory record must
        // outlive the victim (the directory's own state dies with its node), so make results until one's does.
        ObjectRef<long[]>? made = null;
        var kept = new List<object>();
        for (var i = 0; i < 20 && made is null; i++)
        {
            var candidate = ray.Task(TestTasks.CountedLongs, $"{key}:{i}", Length).Options(onVictim).Remote();
            kept.Add(candidate);
            await candidate.GetAsync(Wait.Deadline);
            kept.Add(await ray.PutAsync(new LongsHolder(candidate))); // shared: the directory counts it from here
            var record = await ray.Runtime.Directory(candidate.Id.TaskId).DescribeAsync(candidate.Id);
            // Its copy on the victim (the affinity is soft, so a busy victim may pass it on), its record on the survivor.
            if (record?.Location == victimNode && record.Shard == survivorNode)
            {
                made = candidate;
                key = $"{key}:{i}";
            }
        }

        Assert.NotNull(made);
        var holder = new LongsHolder(made!);
        Assert.Equal(1, await keeper.Task(k => k.Keep(holder)).Remote().GetAsync(Wait.Deadline));
        // (No read before the kill: a reader's node may keep a copy, and then nothing needs making again.)
        await cluster.KillSiloAsync(victim);

        // The actor's read finds the copy gone; the directory asks the owner (the driver), which runs the task again.
        Assert.Equal(Sum, await keeper.Task(k => k.Sum()).Remote().GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(2, Probe.Count(key));
        GC.KeepAlive(kept);
    }

    [Fact]
    public async Task A_lost_put_fails_with_ObjectLostException_that_says_it_was_a_put()
    {
        await using var cluster = await FreshCluster.StartAsync();

        // A driver puts into one node of its host, picked at random: attach drivers until one puts on the node that will die.
        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        Ray? ray = null;
        ObjectRef<long[]>? onVictim = null;
        for (var i = 0; i < 30 && onVictim is null; i++)
        {
            ray = await FreshCluster.AttachAsync(cluster);
            var put = await ray.PutAsync(Enumerable.Range(0, Length).Select(v => (long)v).ToArray());
            var memory = await ray.MemoryAsync(top: 100);
            if (memory.Single(n => n.NodeId == victimNode).Largest.Any(o => o.Id == put.Id))
            {
                onVictim = put;
            }
            else
            {
                await ray.DisposeAsync();
            }
        }

        Assert.NotNull(onVictim);
        await using var _ = ray!;
        await cluster.KillSiloAsync(victim);

        var e = await Assert.ThrowsAsync<ObjectLostException>(() => onVictim!.GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(onVictim!.Id, e.ObjectId);
        Assert.Contains("PutAsync", e.Message);
    }

    [Fact]
    public async Task An_actor_result_lost_with_its_node_is_made_again_by_the_restarted_actor()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var victim = cluster.Silos[1];
        var victimNode = victim.SiloAddress.ToParsableString();
        var onVictim = SchedulingStrategy.NodeAffinity(victimNode, soft: true);

        var retrying = ray.Actor(() => new Counter()).Options(new ActorOptions { MaxRestarts = 1, MaxTaskRetries = 1, SchedulingStrategy = onVictim }).Remote();
        var once = ray.Actor(() => new Counter()).Options(new ActorOptions { MaxRestarts = 1, SchedulingStrategy = onVictim }).Remote();
        Assert.Equal([victimNode, victimNode], await ray.GetAsync([retrying.Task(c => c.Node()).Remote(), once.Task(c => c.Node()).Remote()], Wait.Deadline));

        // Large results, stored in the victim's object store with their actors.
        var key = Probe.NewKey();
        const int n = 100_000;
        var rebuilt = retrying.Task(c => c.Numbers(key + ":retrying", n)).Remote();
        var lost = once.Task(c => c.Numbers(key + ":once", n)).Remote();
        await ray.WaitAsync([rebuilt, lost], numReturns: 2, timeout: Wait.Deadline);
        Assert.True(ray.Runtime.Owned.TryGetReady(rebuilt.Id, out var stored) && stored.Location == victimNode);

        await cluster.KillSiloAsync(victim);

        // The call is sent again to the restarted actor (MaxTaskRetries allows it) and its result read.
        var values = await rebuilt.GetAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(n, values.Length);
        Assert.Equal(n - 1, values[^1]);
        Assert.Equal(2, Probe.Count(key + ":retrying"));

        // MaxTaskRetries = 0 (the default): the result is lost, and the error says why.
        var e = await Assert.ThrowsAsync<ObjectLostException>(() => lost.GetAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("MaxTaskRetries = 0", e.Message);
        Assert.Equal(1, Probe.Count(key + ":once"));
    }
}
