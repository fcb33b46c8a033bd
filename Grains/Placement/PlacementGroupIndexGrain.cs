using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Hosting;

namespace RayOrleans.Placement;

/// <summary>
/// One shard of the durable list of live placement groups (kept in the placement groups' grain storage). It is
/// what wakes a group whose grain died with its silo: on a node death each silo's
/// <see cref="PlacementGroupFailover"/> tells every shard, and each shard tells each of its groups once. A
/// group not holding bundles on the dead node answers at once, so the cost of a node death is one call per
/// live group, in batches. Sharded so that creating and removing groups (each rewrites one shard's record)
/// does not queue on one grain.
/// </summary>
[ClusterStatePlacement]
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

    public async Task AddAsync(Guid group)
    {
        if (groups.State.Add(group))
        {
            await groups.WriteStateAsync();
        }
    }

    public async Task RemoveAsync(Guid group)
    {
        if (groups.State.Remove(group))
        {
            await groups.WriteStateAsync();
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
