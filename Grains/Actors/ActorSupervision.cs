using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;

namespace RayOrleans.Actors;

/// <summary>
/// This silo's part in keeping restartable actors alive without their creators (see <see cref="ActorSupervisorGrain"/>).
/// When membership declares a silo dead (<see cref="Node.NodeDeaths"/>), it tells the supervisors that live here and
/// watch an actor of that silo (each restarts its actor or lets it die), and gives a new supervisor to each
/// actor living here whose supervisor was on that silo (the supervisor's record is in memory, so the actor,
/// which holds its own spec, publishes it again). A record is lost only when an actor and its supervisor die
/// together; the actor's creator, while it lives, publishes it again then (<c>InFlightTasks</c>).
/// </summary>
internal sealed partial class ActorSupervision(IClusterMembershipService membership, IGrainFactory grains, ILogger<ActorSupervision> logger)
    : Node.INodeDeathHandler
{
    private readonly ConcurrentDictionary<ActorId, string> _watching = new();
    private readonly ConcurrentDictionary<ActorId, (string Supervisor, Func<Task> Republish)> _hosted = new();

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

    public async Task NodeDiedAsync(string node)
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
