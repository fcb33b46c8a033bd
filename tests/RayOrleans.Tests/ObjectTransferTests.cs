using System.Runtime.CompilerServices;
using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Runtime;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Moving objects between nodes as between hosts (shared memory across nodes off, so every read on another
/// node pulls chunks over Orleans): a node keeps what it pulls; later pullers are sent to copies, and a
/// source serves at most two pulls at once (later pullers wait for a copy), so a broadcast spreads as a
/// tree; the copies go with the object.
/// </summary>
public sealed class ObjectTransferTests
{
    private const int Length = 3_000_000; // 24 MB: three 8 MiB chunks
    private const int MaxPullsPerSource = 2; // RayOrleans.Node.ObjectCopies.MaxPullsPerSource
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Pulled_copies_are_kept_a_broadcast_fans_out_over_them_and_every_copy_is_freed_with_the_object()
    {
        var builder = new InProcessTestClusterBuilder(4);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node => node.NumCpus = 2, runtime => runtime.SameHostSharedMemory = false));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client, new RayInitOptions { Runtime = new RuntimeOptions { SameHostSharedMemory = false } });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 4, "four nodes report", Limit);
        var nodes = (await ray.NodesAsync()).Select(n => n.NodeId).ToArray();

        var (id, primary, readers) = await BroadcastAsync(ray, nodes);
        // A reader's copy is recorded as its pull ends, which may be just after its read returned: wait for all of them.
        var memory = new Dictionary<string, Messages.NodeMemory>();
        await Wait.UntilAsync(async () =>
        {
            memory = (await ray.MemoryAsync(top: 100)).ToDictionary(m => m.NodeId);
            return readers.All(n => memory[n].Largest.Any(o => o.Id == id)) && memory[primary].Largest.Single(o => o.Id == id).Copies.Count == readers.Length;
        }, "every reader's copy is recorded", Limit);
        var sources = readers.Select(n => memory[n].Largest.Single(o => o.Id == id).PulledFrom!).ToArray();

        // Each reader kept its copy, and the primary's node knows them all.
        var listed = memory[primary].Largest.Single(o => o.Id == id);
        Assert.Null(listed.PulledFrom);
        Assert.Equal(readers.Order(), listed.Copies.Order());

        // Three nodes read at once: the primary serves at most two pulls, so at least one node pulled from
        // another's copy, whatever the timing.
        Assert.InRange(sources.Count(s => s == primary), 1, MaxPullsPerSource);
        Assert.Contains(sources, s => readers.Contains(s));

        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !(await ray.MemoryAsync(top: 100)).Any(m => m.Largest.Any(o => o.Id == id));
        }, "the primary and every copy to be freed once the object's last ref went", Limit);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(ObjectId Id, string Primary, string[] Readers)> BroadcastAsync(Ray ray, string[] nodes)
    {
        var data = TestTasks.MakeArray(Length);
        var expected = data.Sum();
        var stored = await ray.PutAsync(data);
        Assert.True(ray.Runtime.Owned.TryGetReady(stored.Id, out var record));
        var primary = record.Location!;
        var readers = nodes.Where(n => n != primary).ToArray();

        ObjectRef<double> SumOn(string node) =>
            ray.Task(TestTasks.SumArray, stored).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) }).Remote();

        // The three other nodes read it at the same time; then one reads again, from its own copy.
        Assert.All(await ray.GetAsync(readers.Select(SumOn).ToArray(), Limit), sum => Assert.Equal(expected, sum));
        Assert.Equal(expected, await SumOn(readers[0]).GetAsync(Limit));
        return (stored.Id, primary, readers);
    }
}
