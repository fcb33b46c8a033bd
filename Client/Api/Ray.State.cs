using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans;

// The state API (Ray's ray.util.state): what runs where, what ran, and why it failed.
public sealed partial class Ray
{
    /// <summary>
    /// This driver's job id (Ray's job id): every task and actor it submits, and all they submit in turn,
    /// carry it, and the state API filters by it. A driver started by job submission takes the submission id
    /// (<c>RAYORLEANS_JOB_ID</c>); others get a fresh one.
    /// </summary>
    public string JobId => Runtime.JobId;

    /// <summary>
    /// Tasks and actor calls over the cluster (Ray's <c>list_tasks</c>), one row per attempt, newest first:
    /// queued and running ones, and the ended attempts each node keeps (its last <c>MaxTaskEvents</c>, 10,000
    /// by default). A retried task has a row per attempt, the failed ones with <see cref="TaskState.Retried"/>
    /// set and the reason in <see cref="TaskState.ErrorType"/> and <see cref="TaskState.ErrorMessage"/>.
    /// </summary>
    /// <param name="query">Filters and a row limit; null lists the newest 100.</param>
    public async Task<IReadOnlyList<TaskState>> ListTasksAsync(TaskQuery? query = null)
    {
        query ??= new TaskQuery();
        if (query.Limit < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "TaskQuery.Limit must not be negative.");
        }

        await Runtime.Cluster.RefreshAsync().ConfigureAwait(false);
        return await ClusterState.ListTasksAsync(Runtime.Grains, Runtime.Cluster.Reported.Select(n => n.NodeId), query).ConfigureAwait(false);
    }

    /// <summary>
    /// The history of one task (or actor call): its attempts in order, each with its node, state, times and
    /// failure. Empty when no node remembers it (it never ran, or its rows were dropped).
    /// </summary>
    public async Task<IReadOnlyList<TaskState>> GetTaskAsync(Guid taskId)
    {
        var rows = await ListTasksAsync(new TaskQuery { TaskId = taskId, Limit = 1000 }).ConfigureAwait(false);
        return rows.OrderBy(t => t.Attempt).ToList();
    }

    /// <summary>The history of the task (or actor call) that makes <paramref name="result"/>; see <see cref="GetTaskAsync(Guid)"/>.</summary>
    public Task<IReadOnlyList<TaskState>> GetTaskAsync(ObjectRef result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return GetTaskAsync(result.Id.TaskId);
    }

    /// <summary>
    /// How many tasks of each name are in each state over the cluster (Ray's <c>summarize_tasks</c>); ended
    /// ones are counted since each node started, including those the listing no longer keeps.
    /// </summary>
    public async Task<IReadOnlyList<TaskSummary>> SummarizeTasksAsync()
    {
        await Runtime.Cluster.RefreshAsync().ConfigureAwait(false);
        return await ClusterState.SummarizeTasksAsync(Runtime.Grains, Runtime.Cluster.Reported.Select(n => n.NodeId)).ConfigureAwait(false);
    }

    /// <summary>
    /// Actors over the cluster (Ray's <c>list_actors</c>): those alive, being created or restarting, then the
    /// dead each node keeps (its last 1,000) with the cause of death.
    /// </summary>
    /// <param name="query">Filters and a row limit; null lists the first 100.</param>
    public async Task<IReadOnlyList<ActorInfo>> ListActorsAsync(ActorQuery? query = null)
    {
        query ??= new ActorQuery();
        if (query.Limit < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "ActorQuery.Limit must not be negative.");
        }

        await Runtime.Cluster.RefreshAsync().ConfigureAwait(false);
        return await ClusterState.ListActorsAsync(Runtime.Grains, Runtime.Cluster.Reported.Select(n => n.NodeId), query).ConfigureAwait(false);
    }
}
