using RayOrleans.Messages;
using RayOrleans.Node;

namespace RayOrleans.Tests;

/// <summary>A node's bundle pools: a removed bundle goes back to its node only once the work in it is done.</summary>
public sealed class NodeBundlesTests
{
    private static ResourceSet Cpu(double amount) => new(new Dictionary<string, double> { [ResourceSet.Cpu] = amount });

    [Fact]
    public async Task A_removed_bundle_returns_its_cpus_only_after_its_running_work_lets_go()
    {
        var node = new NodeResources(Cpu(4));
        var bundles = new NodeBundles(node);
        var group = Guid.NewGuid();
        Assert.True(bundles.Reserve(group, 0, Cpu(2)));
        var pool = bundles.PoolFor(group, 0, Cpu(1), "n", out _)!;
        Guid a = Guid.NewGuid(), b = Guid.NewGuid();
        Assert.True(pool.TryAcquireNow(Cpu(1), a));
        Assert.True(pool.TryAcquireNow(Cpu(1), b));

        // A blocks in a get (lending its CPU back), the group is removed, A's get returns and takes its CPU back.
        pool.Release(Cpu(1));
        bundles.Return(group);
        await pool.AcquireAsync(Cpu(1), priority: true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<InvalidOperationException>(() => pool.AcquireAsync(Cpu(1), priority: false, CancellationToken.None));

        // A ends; B still runs: the node must not count the bundle's CPUs free yet.
        pool.Release(Cpu(1), a);
        Assert.Equal(2, node.Available[ResourceSet.Cpu], 3);
        pool.Release(Cpu(1), b);
        Assert.Equal(4, node.Available[ResourceSet.Cpu], 3);
    }
}
