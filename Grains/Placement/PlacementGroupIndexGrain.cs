using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RayOrleans.Grains;
using RayOrleans.Hosting;

namespace RayOrleans.Placement;

/// <summary>
/// One shard of the durable list of live placement groups (kept in the placement groups' grain storage). It is
/// what wakes a group whose grain died with its silo: on a node death each silo's
/// <see cref="PlacementGroupFailover"/> tells every shard, and each shard tells each of its groups once. A
/// group not holding bundles on the dead node answers at once, so the cost of a node death is one call per
/// live group, in batches. Sharded so that creating and removing groups (each rewrites one shard's record)
/// does not queue on one grain. Reentrant, and its writes are grouped: the changes that come while the shard's
/// record is being written go in the next write together, so a burst of groups costs a few writes, not one each.
/// </summary>
[ClusterStatePlacement, Reentrant]
internal sealed partial class PlacementGroupIndexGrain(
    [PersistentState("groups", PlacementGroupStorageOptions.ProviderName)] IPersistentState<HashSet<Guid>> groups,
    ILogger<PlacementGroupIndexGrain> logger)
    : Grain, IPlacementGroupIndexGrain
{
    /// <summary>How many shards the list is split over.</summary>
    public const int Shards = 8;

    /// <summary>How many groups a shard tells at once: a node death must not flood the silo with calls.</summary>
    private const int Batch = 64;

    /// <summary>Nodes already handled: every live silo reports each death. In memory: a shard woken again may tell its groups twice, which they ignore.</summary>
    private readonly HashSet<string> _handled = new(StringComparer.Ordinal);

    /// <summary>The shard that lists <paramref name="group"/>.</summary>
    public static long ShardOf(Guid group) => group.ToByteArray()[0] % Shards;

    /// <summary>Completes when a write that began after the latest change ends; null when nothing waits to be written.</summary>
    private TaskCompletionSource? _unwritten;

    /// <summary>A write is on its way (one at a time: the storage's etag allows no other).</summary>
    private bool _writing;

    public Task AddAsync(Guid group) => groups.State.Add(group) ? WrittenAsync() : Task.CompletedTask;

    public Task RemoveAsync(Guid group) => groups.State.Remove(group) ? WrittenAsync() : Task.CompletedTask;

    /// <summary>Completes once the list as it is now is in storage (in this write, or the next one if one is on its way).</summary>
    private Task WrittenAsync()
    {
        var unwritten = _unwritten ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_writing)
        {
            _writing = true;
            _ = WriteLoopAsync();
        }

        return unwritten.Task;
    }

    /// <summary>Writes until no change is left unwritten; runs on the grain's scheduler, so the list does not change during a write's copy.</summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (_unwritten is { } batch)
            {
                _unwritten = null;
                try
                {
                    await groups.WriteStateAsync();
                    batch.TrySetResult();
                }
                catch (Exception e)
                {
                    batch.TrySetException(e);
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    public Task<Guid[]> ListAsync() => Task.FromResult(groups.State.ToArray());

    public async Task NodeDiedAsync(string node)
    {
        if (!_handled.Add(node))
        {
            return;
        }

        foreach (var batch in groups.State.ToArray().Chunk(Batch))
        {
            await Task.WhenAll(batch.Select(async group =>
            {
                try
                {
                    await GrainFactory.GetGrain<IPlacementGroupGrain>(group).NodeDiedAsync(node);
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    LogTellFailed(logger, group, node, e);
                }
            }));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling placement group {Group} that node {Node} died failed.")]
    private static partial void LogTellFailed(ILogger logger, Guid group, string node, Exception exception);
}
