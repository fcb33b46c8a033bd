using Microsoft.Extensions.Logging;
using RayOrleans.Grains;

namespace RayOrleans.Placement;

/// <summary>
/// This silo's part in keeping placement groups whole when nodes die: it watches Orleans membership and, when a
/// silo is declared dead, tells every shard of the placement group list (<see cref="PlacementGroupIndexGrain"/>),
/// which tells each group. Every live silo does it, so the news reaches the groups while any silo lives; the
/// shards drop the repeats. No driver call is needed to wake a group whose grain died with the node.
/// </summary>
internal sealed partial class PlacementGroupFailover(IClusterMembershipService membership, IGrainFactory grains, ILogger<PlacementGroupFailover> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>A shard's call is tried this many times: the first may go to its activation on the dead silo.</summary>
    private const int Attempts = 5;

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PlacementGroupFailover), ServiceLifecycleStage.Active, _ =>
        {
            _loop = Task.Run(WatchAsync);
            return Task.CompletedTask;
        }, async _ =>
        {
            _stop.Cancel();
            if (_loop is not null)
            {
                await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            }
        });

    private async Task WatchAsync()
    {
        // Silos dead before this one started were handled by the silos alive then, and a group activated later
        // checks its bundle nodes itself.
        var known = membership.CurrentSnapshot.Members.Where(m => m.Value.Status == SiloStatus.Dead).Select(m => m.Key).ToHashSet();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stop.Token).ConfigureAwait(false))
            {
                foreach (var died in snapshot.Members.Where(m => m.Value.Status == SiloStatus.Dead && known.Add(m.Key)).Select(m => m.Key.ToParsableString()))
                {
                    _ = TellShardsAsync(died);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private Task TellShardsAsync(string node) =>
        Task.WhenAll(Enumerable.Range(0, PlacementGroupIndexGrain.Shards).Select(async shard =>
        {
            for (var attempt = 1; !_stop.IsCancellationRequested; attempt++)
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
