using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;

namespace RayOrleans.Actors;

/// <summary>
/// This silo's part in keeping restartable actors alive without their creators (see <see cref="ActorSupervisorGrain"/>).
/// It watches Orleans membership, and when a silo is declared dead it tells the supervisors that live here and
/// watch an actor of that silo (each restarts its actor or lets it die), and gives a new supervisor to each
/// actor living here whose supervisor was on that silo (the supervisor's record is in memory, so the actor,
/// which holds its own spec, publishes it again). A record is lost only when an actor and its supervisor die
/// together; the actor's creator, while it lives, publishes it again then (<c>InFlightTasks</c>).
/// </summary>
internal sealed partial class ActorSupervision(IClusterMembershipService membership, IGrainFactory grains, ILogger<ActorSupervision> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<ActorId, string> _watching = new();
    private readonly ConcurrentDictionary<ActorId, (string Supervisor, Func<Task> Republish)> _hosted = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>The supervisor of <paramref name="actor"/> lives here and watches its incarnation on <paramref name="node"/>.</summary>
    public void Watch(ActorId actor, string node) => _watching[actor] = node;

    public void Unwatch(ActorId actor) => _watching.TryRemove(actor, out _);

    /// <summary>A supervised actor lives here; <paramref name="republish"/> gives it a new supervisor if <paramref name="supervisor"/>'s node dies.</summary>
    public void Hosted(ActorId actor, string supervisor, Func<Task> republish) => _hosted[actor] = (supervisor, republish);

    public void Unhosted(ActorId actor) => _hosted.TryRemove(actor, out _);

    /// <summary>Whether membership has declared <paramref name="node"/> dead (or never knew it).</summary>
    public bool IsDead(string node)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(node));
        return status is SiloStatus.Dead or SiloStatus.None;
    }

    /// <summary>Whether membership lists an active silo other than <paramref name="node"/>.</summary>
    public bool HasOtherLiveNode(string node) =>
        membership.CurrentSnapshot.Members.Any(m => m.Value.Status == SiloStatus.Active && m.Key.ToParsableString() != node);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ActorSupervision), ServiceLifecycleStage.Active, _ =>
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
        // Silos dead before this one started were handled by the silos alive then (or by a supervisor's own
        // check when it is told of an actor on a dead node).
        var known = membership.CurrentSnapshot.Members.Where(m => m.Value.Status == SiloStatus.Dead).Select(m => m.Key).ToHashSet();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stop.Token).ConfigureAwait(false))
            {
                var died = snapshot.Members.Where(m => m.Value.Status == SiloStatus.Dead && known.Add(m.Key)).Select(m => m.Key.ToParsableString()).ToList();
                if (died.Count > 0)
                {
                    await Task.WhenAll(died.Select(NodeDiedAsync)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task NodeDiedAsync(string node)
    {
        var restarts = _watching.Where(w => w.Value == node).Select(w => Tell(w.Key, s => s.NodeDiedAsync(node)));
        var republishes = _hosted.Where(h => h.Value.Supervisor == node).Select(h => Republish(h.Key, h.Value.Republish));
        await Task.WhenAll(restarts.Concat(republishes)).ConfigureAwait(false);

        async Task Tell(ActorId actor, Func<IActorSupervisorGrain, Task> tell)
        {
            try
            {
                LogNodeDied(logger, actor, node);
                await tell(grains.GetGrain<IActorSupervisorGrain>(actor.Value)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogFailed(logger, actor, node, e);
            }
        }

        async Task Republish(ActorId actor, Func<Task> republish)
        {
            try
            {
                await republish().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogFailed(logger, actor, node, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} died: the supervisor of actor {ActorId} here decides its restart.")]
    private static partial void LogNodeDied(ILogger logger, ActorId actorId, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Supervising actor {ActorId} after node {Node} died failed.")]
    private static partial void LogFailed(ILogger logger, ActorId actorId, string node, Exception exception);
}
