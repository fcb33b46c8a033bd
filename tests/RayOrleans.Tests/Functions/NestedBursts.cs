namespace RayOrleans.Tests.Functions;

/// <summary>Work a task on one node sends to another node: what a node's runtime batches, as a driver's does.</summary>
public static class NestedBursts
{
    /// <summary>
    /// Submits <paramref name="n"/> tasks pinned to <paramref name="otherNode"/> and <paramref name="n"/> calls to
    /// <paramref name="counter"/> (which lives there), checks every result, and returns whether all were right with
    /// this node's batched sends so far: [all right (1/0), tasks and calls sent in batches, batches].
    /// </summary>
    public static async Task<long[]> BurstToOtherNode(string otherNode, ActorHandle<Counter> counter, int n)
    {
        var ray = Ray.Current;
        // This node's view of the cluster refreshes on its own: wait (with a deadline) until it lists the other node,
        // since a hard affinity to a node the view does not list fails at once.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!ray.Runtime.Cluster.Nodes.Any(node => node.NodeId == otherNode))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"node {ray.NodeId} never saw node {otherNode} in its cluster view");
            }

            await Task.Delay(20);
        }

        var there = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(otherNode) };
        var squares = await ray.GetAsync(Enumerable.Range(0, n).Select(i => ray.Task(TestTasks.Square, i).Options(there).Remote()).ToList());
        var totals = await ray.GetAsync(Enumerable.Range(1, n).Select(i => counter.Task(c => c.Add(i)).Remote()).ToList());
        var right = squares.SequenceEqual(Enumerable.Range(0, n).Select(i => i * i)) &&
                    totals.SequenceEqual(Enumerable.Range(1, n).Select(i => i * (i + 1) / 2)); // in call order
        var (sent, batches) = ray.Runtime.BatchedSends;
        return [right ? 1 : 0, sent, batches];
    }
}
