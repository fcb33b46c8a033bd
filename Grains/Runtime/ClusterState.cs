using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// The state API's cluster-wide listings (Ray's <c>ray.util.state</c>): each asks every node and merges the
/// answers. Used by drivers (<c>Ray.ListTasksAsync</c>) and by the silo host's HTTP API alike. A node that
/// does not answer (it is dying) is left out of the listing rather than failing it, as Ray's state API
/// returns partial results.
/// </summary>
internal static class ClusterState
{
    /// <summary>Per-node wait: a listing is for people and scripts, so a stuck node must not hold it long.</summary>
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Task attempts matching <paramref name="query"/>, newest first. Where a node and an owner both describe
    /// one attempt (an owner reports attempts lost with their node), the ended description wins, then the later.
    /// </summary>
    public static async Task<IReadOnlyList<TaskState>> ListTasksAsync(IGrainFactory grains, IEnumerable<string> nodes, TaskQuery query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);
        var answers = await AskAllAsync(grains, nodes, n => n.ListTasksAsync(query)).ConfigureAwait(false);
        return answers.SelectMany(a => a)
            .GroupBy(t => (t.TaskId, t.Attempt))
            .Select(g => g.OrderByDescending(t => t.IsTerminal).ThenByDescending(t => t.EndTime ?? DateTime.MinValue).First())
            .OrderByDescending(t => t.CreationTime ?? t.EndTime ?? DateTime.MinValue)
            .ThenByDescending(t => t.Attempt)
            .Take(query.Limit)
            .ToList();
    }

    /// <summary>Counts of tasks by name, type and state over the cluster (ended ones since each node started).</summary>
    public static async Task<IReadOnlyList<TaskSummary>> SummarizeTasksAsync(IGrainFactory grains, IEnumerable<string> nodes)
    {
        var answers = await AskAllAsync(grains, nodes, n => n.SummarizeTasksAsync()).ConfigureAwait(false);
        return answers.SelectMany(a => a)
            .GroupBy(s => (s.Name, s.Type, s.State))
            .Select(g => new TaskSummary(g.Key.Name, g.Key.Type, g.Key.State, g.Sum(s => s.Count)))
            .OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.State, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Actors matching <paramref name="query"/>: alive ones first, then the dead, newest first.</summary>
    public static async Task<IReadOnlyList<ActorInfo>> ListActorsAsync(IGrainFactory grains, IEnumerable<string> nodes, ActorQuery query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);
        var answers = await AskAllAsync(grains, nodes, n => n.ListActorsAsync(query)).ConfigureAwait(false);

        // A restarted actor appears on its old node as dead and on its new one as alive: the live one is the actor.
        return answers.SelectMany(a => a)
            .GroupBy(a => a.ActorId)
            .Select(g => g.OrderBy(a => a.State == "DEAD").ThenByDescending(a => a.Restarts).First())
            .OrderBy(a => a.State == "DEAD").ThenByDescending(a => a.EndTime ?? a.StartTime ?? DateTime.MinValue)
            .Take(query.Limit)
            .ToList();
    }

    /// <summary>
    /// The placement groups with their state: those the durable group list names (pending, created or
    /// rescheduling, even with no bundle on a live node), and any holding reservations on some node.
    /// </summary>
    public static async Task<IReadOnlyList<PlacementGroupInfo>> ListPlacementGroupsAsync(IGrainFactory grains, IEnumerable<string> nodes, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var answers = await AskAllAsync(grains, nodes, n => n.PlacementGroupsAsync()).ConfigureAwait(false);
        var listed = await Task.WhenAll(Enumerable.Range(0, Recovery.RecoveryIndexGrain.Shards).Select(async shard =>
        {
            try
            {
                return await grains.GetGrain<IRecoveryIndexGrain>(shard, Recovery.RecoveryKinds.PlacementGroups).ListAsync().WaitAsync(NodeTimeout).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return []; // the nodes' bundle tables still name the groups holding reservations
            }
        })).ConfigureAwait(false);
        answers.AddRange(listed);
        var infos = await Task.WhenAll(answers.SelectMany(a => a).Distinct().Take(limit).Select(async id =>
        {
            try
            {
                return await grains.GetGrain<IPlacementGroupGrain>(id).GetInfoAsync().WaitAsync(NodeTimeout).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return null; // left out, as a node that does not answer is
            }
        })).ConfigureAwait(false);
        return infos.OfType<PlacementGroupInfo>().ToList();
    }

    /// <summary>Asks every node in <paramref name="nodes"/> at once; a node that does not answer in time (dead, or being declared so) is left out.</summary>
    public static async Task<List<T>> AskAllAsync<T>(IGrainFactory grains, IEnumerable<string> nodes, Func<INodeGrain, Task<T>> ask)
    {
        var calls = nodes.Distinct(StringComparer.Ordinal).Select(async node =>
        {
            try
            {
                return (Ok: true, Value: await ask(grains.GetGrain<INodeGrain>(node)).WaitAsync(NodeTimeout).ConfigureAwait(false));
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or InvalidOperationException)
            {
                return (Ok: false, Value: default(T)!);
            }
        });
        var answers = await Task.WhenAll(calls).ConfigureAwait(false);
        return answers.Where(a => a.Ok).Select(a => a.Value).ToList();
    }
}
