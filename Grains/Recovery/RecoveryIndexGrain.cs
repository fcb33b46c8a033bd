using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RayOrleans.Grains;
using RayOrleans.Hosting;
using RayOrleans.Placement;

namespace RayOrleans.Recovery;

/// <summary>
/// One shard of a durable list of grains to wake when a node dies (kept in the cluster-state grain storage):
/// placement groups and restartable actors' supervisors (<see cref="RecoveryKinds"/>, the key extension). It is
/// what reaches such a grain whose activation died with its silo: on a node death each silo's
/// <see cref="RecoveryIndexFailover"/> tells every shard, and each shard tells each of its grains once. A grain
/// with nothing on the dead node answers at once, so the cost of a node death is one call per listed grain, in
/// batches. Sharded so that adding and removing (each rewrites one shard's record) does not queue on one grain;
/// reentrant, with its writes grouped (<see cref="GroupedWrites"/>), so a burst of them costs a few writes.
/// </summary>
[ClusterStatePlacement, Reentrant]
internal sealed partial class RecoveryIndexGrain : Grain, IRecoveryIndexGrain
{
    /// <summary>How many shards each kind's list is split over.</summary>
    public const int Shards = 8;

    /// <summary>How many grains a shard tells at once: a node death must not flood the silo with calls.</summary>
    private const int Batch = 64;

    private readonly IPersistentState<HashSet<Guid>> _ids;
    private readonly ILogger<RecoveryIndexGrain> _logger;
    private readonly GroupedWrites _writes;

    /// <summary>Nodes already handled: every live silo reports each death. In memory: a shard woken again may tell its grains twice, which they ignore.</summary>
    private readonly HashSet<string> _handled = new(StringComparer.Ordinal);

    public RecoveryIndexGrain(
        [PersistentState("ids", ClusterStateStorageOptions.ProviderName)] IPersistentState<HashSet<Guid>> ids,
        ILogger<RecoveryIndexGrain> logger)
    {
        _ids = ids;
        _logger = logger;
        _writes = new GroupedWrites(ids.WriteStateAsync);
    }

    /// <summary>The shard of <paramref name="kind"/> that lists <paramref name="id"/>.</summary>
    public static IRecoveryIndexGrain For(IGrainFactory grains, string kind, Guid id) =>
        grains.GetGrain<IRecoveryIndexGrain>(id.ToByteArray()[0] % Shards, kind);

    private string Kind
    {
        get
        {
            this.GetPrimaryKeyLong(out var kind);
            return kind!;
        }
    }

    public Task AddAsync(Guid id) => _ids.State.Add(id) ? _writes.WrittenAsync() : Task.CompletedTask;

    public Task RemoveAsync(Guid id) => _ids.State.Remove(id) ? _writes.WrittenAsync() : Task.CompletedTask;

    public Task<Guid[]> ListAsync() => Task.FromResult(_ids.State.ToArray());

    public async Task NodeDiedAsync(string node)
    {
        if (!_handled.Add(node))
        {
            return;
        }

        var kind = Kind;
        foreach (var batch in _ids.State.ToArray().Chunk(Batch))
        {
            await Task.WhenAll(batch.Select(async id =>
            {
                try
                {
                    await RecoveryKinds.TellNodeDiedAsync(GrainFactory, kind, id, node);
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    LogTellFailed(_logger, kind, id, node, e);
                }
            }));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling {Kind} grain {Id} that node {Node} died failed.")]
    private static partial void LogTellFailed(ILogger logger, string kind, Guid id, string node, Exception exception);
}
