using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RayOrleans.Grains;
using RayOrleans.Hosting;
using RayOrleans.Recovery;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>Placement groups on two 2-CPU nodes: each strategy's layout, bundle-only resources, all-or-nothing, removal, names.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class PlacementGroupTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    private static Dictionary<string, double> Cpu(double amount) => new() { [ResourceSet.Cpu] = amount };

    private async Task<NodeReport[]> ReportsAsync() =>
        await Task.WhenAll((await Ray.NodesAsync()).Select(n => fixture.Cluster.Client.GetGrain<INodeGrain>(n.NodeId).GetReportAsync()));

    private async Task<string[]> WhereBundlesRunAsync(PlacementGroup group) =>
        await Ray.GetAsync(Enumerable.Range(0, group.Bundles.Count).Select(i =>
            Ray.Task(TestTasks.WhereAmI, i).Options(new TaskOptions { NumCpus = 0.5, SchedulingStrategy = group.Bundle(i) }).Remote()), Wait.Deadline);

    [Theory]
    [InlineData(PlacementGroupStrategy.StrictPack, 1)]
    [InlineData(PlacementGroupStrategy.Pack, 1)]
    [InlineData(PlacementGroupStrategy.StrictSpread, 2)]
    [InlineData(PlacementGroupStrategy.Spread, 2)]
    public async Task Each_strategy_lays_out_its_bundles_and_work_runs_where_its_bundle_is(PlacementGroupStrategy strategy, int distinctNodes)
    {
        var group = await Ray.PlacementGroupAsync([Cpu(1), Cpu(1)], strategy);
        try
        {
            await group.ReadyAsync().WaitAsync(Wait.Deadline);
            var info = await group.InfoAsync();
            Assert.Equal(PlacementGroupState.Created, info.State);
            Assert.Equal(distinctNodes, info.BundleNodes.Distinct().Count());
            Assert.Equal(info.BundleNodes, await WhereBundlesRunAsync(group));
        }
        finally
        {
            await Ray.RemovePlacementGroupAsync(group);
        }
    }

    [Fact]
    public async Task Work_in_a_bundle_uses_the_bundles_resources_only()
    {
        var group = await Ray.PlacementGroupAsync([Cpu(1)], PlacementGroupStrategy.StrictPack);
        try
        {
            await group.ReadyAsync().WaitAsync(Wait.Deadline);
            var node = (await group.InfoAsync()).BundleNodes[0];
            Assert.Equal(1, (await ReportsAsync()).Single(r => r.NodeId == node).Available[ResourceSet.Cpu], 3);

            // The node has a free CPU besides, but a 1-CPU bundle runs one 1-CPU task at a time.
            var key = Probe.NewKey();
            var inBundle = new TaskOptions { SchedulingStrategy = group.Bundle(0) };
            var atOnce = await Ray.GetAsync(Enumerable.Range(0, 6).Select(_ => Ray.Task(TestTasks.Occupy, key).Options(inBundle).Remote()), Wait.Deadline);
            Assert.All(atOnce, n => Assert.Equal(1, n));

            // More than the bundle holds fails, naming the bundle; so does a bundle the group does not have.
            var tooBig = await Assert.ThrowsAsync<RayTaskException>(() =>
                Ray.Task(TestTasks.Square, 2).Options(new TaskOptions { NumCpus = 2, SchedulingStrategy = group.Bundle(0) }).Remote().GetAsync(Wait.Deadline));
            Assert.Contains("bundle 0", tooBig.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => group.Bundle(1));
        }
        finally
        {
            await Ray.RemovePlacementGroupAsync(group);
        }
    }

    [Fact]
    public async Task A_gpu_bundle_gives_its_gpu_to_the_work_in_it()
    {
        var group = await Ray.PlacementGroupAsync([new() { [ResourceSet.Gpu] = 1 }]);
        try
        {
            await group.ReadyAsync().WaitAsync(Wait.Deadline);
            var key = Probe.NewKey();
            Probe.Open(key);
            var seen = await Ray.Task(TestTasks.HoldGpus, key).Options(new TaskOptions { NumCpus = 0, NumGpus = 1, SchedulingStrategy = group.AnyBundle }).Remote().GetAsync(Wait.Deadline);
            Assert.Equal((await group.InfoAsync()).BundleNodes[0], seen.Split('|')[0]);
            Assert.Contains(seen.Split('|')[1], new[] { "0", "1" });
        }
        finally
        {
            await Ray.RemovePlacementGroupAsync(group);
        }
    }

    [Fact]
    public async Task A_group_no_nodes_can_hold_waits_reserving_nothing_and_says_why()
    {
        var before = await ReportsAsync();
        var strictSpread = await Ray.PlacementGroupAsync([Cpu(1), Cpu(1), Cpu(1)], PlacementGroupStrategy.StrictSpread);
        var strictPack = await Ray.PlacementGroupAsync([Cpu(1.5), Cpu(1.5)], PlacementGroupStrategy.StrictPack);
        try
        {
            Assert.False(await strictSpread.WaitAsync(TimeSpan.FromMilliseconds(300)));
            Assert.False(await strictPack.WaitAsync(TimeSpan.FromMilliseconds(300)));
            foreach (var group in new[] { strictSpread, strictPack })
            {
                var info = await group.InfoAsync();
                Assert.Equal(PlacementGroupState.Pending, info.State);
                Assert.True(info.Infeasible);
                Assert.Contains("can ever hold it", info.PendingReason);
            }

            // All or nothing: no bundle of either group holds anything on any node.
            var after = await ReportsAsync();
            foreach (var report in after)
            {
                Assert.Equal(report.Total[ResourceSet.Cpu], report.Available[ResourceSet.Cpu], 3);
            }

            Assert.Equal(before.Length, after.Length);
        }
        finally
        {
            await Ray.RemovePlacementGroupAsync(strictSpread);
            await Ray.RemovePlacementGroupAsync(strictPack);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => strictSpread.ReadyAsync());
    }

    [Fact]
    public async Task Removing_a_group_gives_its_resources_back_and_ends_the_work_in_it()
    {
        var group = await Ray.PlacementGroupAsync([Cpu(2)], PlacementGroupStrategy.StrictPack);
        await group.ReadyAsync().WaitAsync(Wait.Deadline);
        var node = (await group.InfoAsync()).BundleNodes[0];
        Assert.Equal(0, (await ReportsAsync()).Single(r => r.NodeId == node).Available[ResourceSet.Cpu], 3);

        var actor = await Ray.Actor(() => new Counter()).Options(new ActorOptions { NumCpus = 1, SchedulingStrategy = group.Bundle(0) }).RemoteAsync();
        Assert.Equal(node, await actor.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));

        await Ray.RemovePlacementGroupAsync(group);
        Assert.Equal(PlacementGroupState.Removed, (await group.InfoAsync()).State);
        await Assert.ThrowsAsync<ActorDiedException>(() => actor.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
        await Wait.UntilAsync(async () => (await ReportsAsync()).Single(r => r.NodeId == node).Available[ResourceSet.Cpu] >= 2 - 1e-6, "the bundle's CPUs are back");

        var late = await Assert.ThrowsAsync<RayTaskException>(() =>
            Ray.Task(TestTasks.Square, 2).Options(new TaskOptions { SchedulingStrategy = group.Bundle(0) }).Remote().GetAsync(Wait.Deadline));
        Assert.Contains("removed", late.Message);
    }

    [Fact]
    public async Task Named_groups_are_found_by_name_and_bad_input_fails_at_the_call()
    {
        var name = "pg-" + Probe.NewKey();
        var group = await Ray.PlacementGroupAsync([Cpu(0.5)], name: name);
        try
        {
            Assert.Equal(group.Id, (await Ray.GetPlacementGroupAsync(name)).Id);
            await Assert.ThrowsAsync<ArgumentException>(() => Ray.PlacementGroupAsync([Cpu(0.5)], name: name));
        }
        finally
        {
            await Ray.RemovePlacementGroupAsync(group);
        }

        await Assert.ThrowsAsync<KeyNotFoundException>(() => Ray.GetPlacementGroupAsync(name));
        await Assert.ThrowsAsync<ArgumentException>(() => Ray.PlacementGroupAsync([]));
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => Ray.PlacementGroupAsync([Cpu(1), []]));
        Assert.Contains("Bundle 1", empty.Message);
        var negative = await Assert.ThrowsAsync<ArgumentException>(() => Ray.PlacementGroupAsync([Cpu(-1)]));
        Assert.Contains("Bundle 0", negative.Message);
        Assert.Throws<ArgumentException>(() => SchedulingStrategy.PlacementGroup(Guid.Empty));
    }
    [Fact]
    public async Task Groups_made_and_removed_at_once_are_all_in_the_stored_index_and_then_none_are()
    {
        // The index shards group their writes (the changes that come during a write go in the next one): every
        // group must still reach storage, since the stored list is what wakes a group whose silo died.
        var groups = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ => Ray.PlacementGroupAsync([Cpu(0.001)])));
        var ids = groups.Select(g => g.Id).ToHashSet();
        var stored = await StoredIndexAsync();
        Assert.Superset(ids, stored);

        await Task.WhenAll(groups.Select(g => Ray.RemovePlacementGroupAsync(g)));
        Assert.Empty((await StoredIndexAsync()).Intersect(ids));
    }

    /// <summary>The ids in the index shards' records as the placement groups' storage holds them.</summary>
    private async Task<HashSet<Guid>> StoredIndexAsync()
    {
        var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(ClusterStateStorageOptions.ProviderName);
        var all = new HashSet<Guid>();
        for (var shard = 0; shard < RecoveryIndexGrain.Shards; shard++)
        {
            var state = new GrainState<HashSet<Guid>>();
            await storage.ReadStateAsync("ids", fixture.Cluster.Client.GetGrain<IRecoveryIndexGrain>(shard, RecoveryKinds.PlacementGroups).GetGrainId(), state);
            all.UnionWith(state.State ?? []);
        }

        return all;
    }
}
