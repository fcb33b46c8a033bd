using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// The cluster's record of one restartable actor (the key is the actor's id), as Ray's GCS actor manager keeps
/// one: its spec, where its current incarnation lives and how many restarts it used. It lives on another node
/// than its actor, and restarts the actor when membership declares the actor's node dead, whether or not the
/// process that created it is still there. Callers whose calls were lost ask it where the actor stands.
/// </summary>
public interface IActorSupervisorGrain : IGrainWithGuidKey
{
    /// <summary>
    /// Incarnation <c>spec.Restarts</c> of the actor lives on <paramref name="node"/> (sent by the actor when
    /// built or restarted in place, again when its supervisor was lost, and by its creator when the supervisor
    /// knew nothing of it). Answers the supervisor's own node.
    /// </summary>
    [AlwaysInterleave]
    Task<string> SuperviseAsync(ActorSpec spec, string node);

    /// <summary>The actor died for good (killed, out of restarts, creation failed) for <paramref name="cause"/>.</summary>
    [AlwaysInterleave]
    Task EndedAsync(string cause);

    /// <summary>Membership declared <paramref name="node"/> dead: if the actor lived there, restart it or let it die.</summary>
    [AlwaysInterleave]
    Task NodeDiedAsync(string node);

    /// <summary>Where the actor stands now.</summary>
    [AlwaysInterleave]
    Task<ActorStatus> StatusAsync();
}
