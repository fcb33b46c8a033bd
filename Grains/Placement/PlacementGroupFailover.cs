using Microsoft.Extensions.Logging;
using RayOrleans.Grains;

namespace RayOrleans.Placement;

/// <summary>
/// This silo's part in keeping placement groups whole when nodes die: when a silo is declared dead
/// (<see cref="Node.NodeDeaths"/>), it tells every shard of the placement group list (<see cref="PlacementGroupIndexGrain"/>),
/// which tells each group. Every live silo does it, so the news reaches the groups while any silo lives; the
/// shards drop the repeats. No driver call is needed to wake a group whose grain died with the node.
/// </summary>
internal sealed partial class PlacementGroupFailover(IGrainFactory grains, ILogger<PlacementGroupFailover> logger)
    : Node.INodeDeathHandler
{
    /// <summary>A shard's call is tried this many times: the first may go to its activation on the dead silo.</summary>
    private const int Attempts = 5;


    public Task NodeDiedAsync(string node)
    {
        _ = TellShardsAsync(node); // retried for seconds: the watcher's loop goes on meanwhile
        return Task.CompletedTask;
    }

    private Task TellShardsAsync(string node) =>
        Task.WhenAll(Enumerable.Range(0, PlacementGroupIndexGrain.Shards).Select(async shard =>
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await grains.GetGrain<IPlacementGroupIndexGrain>(shard).NodeDiedAsync(node).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is OrleansException or TimeoutException && attempt < Attempts)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogFailed(logger, node, shard, e);
                    return;
                }
            }
        }));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling placement group shard {Shard} that node {Node} died failed; the other silos tell it too.")]
    private static partial void LogFailed(ILogger logger, string node, int shard, Exception exception);
}
