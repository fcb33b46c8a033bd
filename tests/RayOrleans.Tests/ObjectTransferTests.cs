using System.Runtime.CompilerServices;
using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Runtime;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Moving objects between nodes as between hosts (shared memory across nodes off, so every read on another
/// node pulls chunks over Orleans): a node keeps what it pulls, and a second node pulls from that copy
/// rather than from the primary; the copies go when the object is freed.
/// </summary>
public sealed class ObjectTransferTests
{
    private const int Length = 3_000_000; // 24 MB: three 8 MiB chunks
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Nodes_keep_pulled_copies_a_second_puller_reads_from_a_copy_and_every_copy_is_freed_with_the_object()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node => node.NumCpus = 2, runtime => runtime.SameHostSharedMemory = false));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await using var ray = await Ray.AttachAsync(cluster.Client, new RayInitOptions { Runtime = new RuntimeOptions { SameHostSharedMemory = false } });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 3, "three nodes report", Limit);
        var nodes = (await ray.NodesAsync()).Select(n => n.NodeId).ToArray();

        var (id, primary) = await ReadOnOtherNodesAsync(ray, nodes);
        var (first, second) = (nodes.Where(n => n != primary).First(), nodes.Where(n => n != primary).Last());
        var memory = (await ray.MemoryAsync(top: 100)).ToDictionary(m => m.NodeId);
        Assert.Equal(new[] { first, second }.Order(), memory[primary].Largest.Single(o => o.Id == id).Copies.Order());
        Assert.Null(memory[primary].Largest.Single(o => o.Id == id).PulledFrom);
        Assert.Equal(primary, memory[first].Largest.Single(o => o.Id == id).PulledFrom);
        // The broadcast fans out: the second node pulled from the first node's copy, not from the primary.
        Assert.Equal(first, memory[second].Largest.Single(o => o.Id == id).PulledFrom);

        await Wait.UntilAsync(async () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !(await ray.MemoryAsync(top: 100)).Any(m => m.Largest.Any(o => o.Id == id));
        }, "the primary and both copies to be freed once the object's last ref went", Limit);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(ObjectId Id, string Primary)> ReadOnOtherNodesAsync(Ray ray, string[] nodes)
    {
        var data = TestTasks.MakeArray(Length);
        var expected = data.Sum();
        var stored = await ray.PutAsync(data);
        Assert.True(ray.Runtime.Owned.TryGetReady(stored.Id, out var record));
        var primary = record.Location!;
        var others = nodes.Where(n => n != primary).ToArray();

        // The first other node reads it twice (one pull, then its copy), the second once.
        foreach (var node in new[] { others[0], others[0], others[1] })
        {
            var sum = ray.Task(TestTasks.SumArray, stored).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) }).Remote();
            Assert.Equal(expected, await sum.GetAsync(Limit));
        }

        return (stored.Id, primary);
    }
}
