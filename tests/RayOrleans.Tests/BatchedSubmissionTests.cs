using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// A driver outside the cluster, and a node for the work it sends to other nodes, sends tasks to a node in batches
/// while others of its tasks wait there, and gets their replies back in batches (TaskBatchSender, TaskReplyBatches). Lost reply batches: LostReplyTests; node deaths with
/// batches in flight: ChaosTests and ProcessClusterTests, whose drivers are clients too.
/// </summary>
public sealed class BatchedSubmissionTests
{
    [Fact]
    public async Task A_burst_of_tasks_from_a_client_driver_goes_in_batches_and_every_result_comes_back_right()
    {
        await using var cluster = await StartClusterAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);

        const int n = 3000;
        var refs = Enumerable.Range(0, n).Select(i => ray.Task(TestTasks.Square, i).Remote()).ToList();
        Assert.Equal(Enumerable.Range(0, n).Select(i => i * i), await ray.GetAsync(refs, Wait.Deadline));

        // Most went in batches (each node's first task of the burst goes as its own call), and batches held many.
        var (tasks, batches) = ray.Runtime.BatchedSends;
        Assert.InRange(tasks, n / 2, n);
        Assert.InRange(batches, 1, tasks / 4);

        // A lone task after the burst goes as its own call, not in a batch.
        Assert.Equal(49, await ray.Task(TestTasks.Square, 7).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(tasks, ray.Runtime.BatchedSends.Tasks);
    }

    [Fact]
    public async Task A_burst_of_calls_to_one_actor_from_a_client_driver_goes_in_batches_and_runs_in_call_order()
    {
        await using var cluster = await StartClusterAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        // Created first: calls sent while the creation is on its way carry its placement hint, one call each.
        var counter = await ray.Actor(() => new Counter()).RemoteAsync().WaitAsync(Wait.Deadline);
        Assert.Equal(0, await counter.Task(c => c.Add(0)).Remote().GetAsync(Wait.Deadline));

        // The first call of the burst goes on its own, the rest in batches; the actor runs them in the order sent,
        // so each sees the running total of the ones before it.
        const int n = 2000;
        var before = ray.Runtime.BatchedSends;
        var totals = await ray.GetAsync(Enumerable.Range(1, n).Select(i => counter.Task(c => c.Add(i)).Remote()).ToList(), Wait.Deadline);
        Assert.Equal(Enumerable.Range(1, n).Select(i => i * (i + 1) / 2), totals);
        var (tasks, batches) = ray.Runtime.BatchedSends;
        Assert.InRange(tasks - before.Tasks, n / 2, n - 1);
        Assert.InRange(batches - before.Batches, 1, (tasks - before.Tasks) / 4);
    }
    [Fact]
    public async Task A_task_on_one_node_sends_its_burst_of_tasks_and_actor_calls_to_another_node_in_batches()
    {
        await using var cluster = await StartClusterAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both nodes report");
        var nodes = (await ray.NodesAsync()).Select(n => n.NodeId).ToList();
        var (here, there) = (nodes[0], nodes[1]);
        var counter = await ray.Actor(() => new Counter())
            .Options(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(there) }).RemoteAsync().WaitAsync(Wait.Deadline);
        Assert.Equal(0, await counter.Task(c => c.Add(0)).Remote().GetAsync(Wait.Deadline));

        // The task runs on one node; its tasks and calls go to the other one, most of them in batches (each burst's
        // first goes on its own), and every result comes back right, the calls in the order sent.
        const int n = 1000;
        var result = await ray.Task(NestedBursts.BurstToOtherNode, there, counter, n)
            .Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(here) }).Remote().GetAsync(Wait.Deadline);
        Assert.Equal(1, result[0]);
        Assert.InRange(result[1], n, 2 * n - 2);
        Assert.InRange(result[2], 1, result[1] / 4);
    }

    /// <summary>Two silos in this process, each a node with 2 CPUs.</summary>
    private static async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddRayNode(node => node.NumCpus = 2));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
