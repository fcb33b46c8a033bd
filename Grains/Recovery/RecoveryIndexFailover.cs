using Microsoft.Extensions.Logging;
using RayOrleans.Grains;

namespace RayOrleans.Recovery;

/// <summary>
/// This silo's part in waking the grains that must act when a node dies (placement groups, actors' supervisors):
/// when a silo is declared dead (<see cref="Node.NodeDeaths"/>), it tells every shard of the recovery index
/// (<see cref="RecoveryIndexGrain"/>), which tells each grain it lists. Every live silo does it, so the news
/// reaches them while any silo lives; the shards drop the repeats. No driver call is needed to wake a grain
/// whose activation died with the node.
/// </summary>
internal sealed partial class RecoveryIndexFailover(IGrainFactory grains, ILogger<RecoveryIndexFailover> logger)
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
        Task.WhenAll(RecoveryKinds.All.SelectMany(kind => Enumerable.Range(0, RecoveryIndexGrain.Shards).Select(async shard =>
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await grains.GetGrain<IRecoveryIndexGrain>(shard, kind).NodeDiedAsync(node).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is OrleansException or TimeoutException && attempt < Attempts)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogFailed(logger, node, kind, shard, e);
                    return;
                }
            }
        })));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling recovery index shard {Kind}/{Shard} that node {Node} died failed; the other silos tell it too.")]
    private static partial void LogFailed(ILogger logger, string node, string kind, int shard, Exception exception);
}
