using RayOrleans.Grains;

namespace RayOrleans.Runtime;

/// <summary>
/// This runtime as an object owner the directory can call (a grain observer): it makes a shared object
/// again when a borrower finds its copy lost, forgets the lineage of objects the directory freed, and
/// answers liveness checks.
/// </summary>
internal sealed class ObjectOwnerEndpoint(RayRuntime runtime) : IObjectOwner
{
    public Task<string?> RebuildAsync(ObjectId id, string? lostLocation) => Task.FromResult(runtime.RebuildForBorrower(id, lostLocation));

    public Task ObjectsFreedAsync(ObjectId[] ids)
    {
        foreach (var id in ids)
        {
            runtime.Owned.Forget(id);
        }

        return Task.CompletedTask;
    }

    public Task<int> ObjectsMovedAsync(Messages.ObjectMove[] moves) => Task.FromResult(moves.Count(m => runtime.Owned.Relocate(m.Id, m.From, m.To)));

    public Task TasksRepliedAsync(Messages.TaskReply[] replies)
    {
        runtime.OnTaskReplies(replies);
        return Task.CompletedTask;
    }

    public Task PingAsync() => Task.CompletedTask;
}
