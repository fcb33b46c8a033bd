namespace RayOrleans.Messages;

/// <summary>
/// A restartable actor as its cluster-side supervisor knows it (see <c>IActorSupervisorGrain</c>): what a caller
/// whose call was lost needs to send it again to the restarted actor, or to fail it naming the cause.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ActorStatus")]
public sealed record ActorStatus
{
    /// <summary>False when the supervisor holds no record of the actor (it may not restart, or it ended long ago); the rest is empty.</summary>
    [Id(0)] public bool Known { get; init; }

    /// <summary>ALIVE, RESTARTING or DEAD, as Ray names them.</summary>
    [Id(1)] public string State { get; init; } = "DEAD";

    /// <summary>The node of the current incarnation (null while restarting or dead).</summary>
    [Id(2)] public string? Node { get; init; }

    /// <summary>Restarts used: the current incarnation's number.</summary>
    [Id(3)] public int Restarts { get; init; }

    /// <summary>The actor's MaxRestarts (-1: without limit).</summary>
    [Id(4)] public int MaxRestarts { get; init; }

    /// <summary>The actor's MaxTaskRetries (-1: without limit): how often a caller may send a call that may have run again.</summary>
    [Id(5)] public int MaxTaskRetries { get; init; }

    /// <summary>Why it died, when dead.</summary>
    [Id(6)] public string? Cause { get; init; }

    /// <summary>
    /// How long the current incarnation has been alive, measured by the supervisor: a caller compares it with the
    /// time since it sent a lost call to learn whether the call went to an earlier incarnation (no clocks compared).
    /// </summary>
    [Id(7)] public TimeSpan Age { get; init; }

    /// <summary>The actor's class, for messages.</summary>
    [Id(8)] public string? ClassName { get; init; }

    /// <summary>The node the supervisor that answered lives on: never the actor's own while another node is alive.</summary>
    [Id(9)] public string? SupervisorNode { get; init; }
}
