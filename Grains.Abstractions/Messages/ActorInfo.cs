namespace RayOrleans.Messages;

/// <summary>A snapshot of one actor.</summary>
[GenerateSerializer, Immutable, Alias("ray.ActorInfo")]
public sealed class ActorInfo
{
    /// <summary>The actor's id.</summary>
    [Id(0)] public required ActorId ActorId { get; init; }
    /// <summary>ALIVE, RESTARTING, DEAD or PENDING_CREATION, as Ray names them.</summary>
    [Id(1)] public required string State { get; init; }
    /// <summary>The node hosting the instance.</summary>
    [Id(2)] public string? Node { get; init; }
    /// <summary>How often it has restarted.</summary>
    [Id(3)] public int Restarts { get; init; }
    /// <summary>Why it died, when dead.</summary>
    [Id(4)] public string? DeathCause { get; init; }
    /// <summary>The actor class.</summary>
    [Id(5)] public string? ClassName { get; init; }
    /// <summary>Its name, when named.</summary>
    [Id(6)] public string? Name { get; init; }
    /// <summary>The namespace its name lives in.</summary>
    [Id(7)] public string? Namespace { get; init; }
    /// <summary>The job that created it.</summary>
    [Id(8)] public string JobId { get; init; } = "";
    /// <summary>The resources it holds while alive.</summary>
    [Id(9)] public ResourceSet? Resources { get; init; }
    /// <summary>Its MaxRestarts option (-1: without limit).</summary>
    [Id(10)] public int MaxRestarts { get; init; }
    /// <summary>Whether it outlives its creator.</summary>
    [Id(11)] public bool Detached { get; init; }
    /// <summary>Calls waiting or running in its mailbox.</summary>
    [Id(12)] public int PendingCalls { get; init; }
    /// <summary>When it started on its node (UTC).</summary>
    [Id(13)] public DateTime? StartTime { get; init; }
    /// <summary>When it died (UTC).</summary>
    [Id(14)] public DateTime? EndTime { get; init; }
}

/// <summary>What a state API listing of actors asks for (Ray's <c>list_actors</c> filters); null properties match anything.</summary>
[GenerateSerializer, Immutable, Alias("ray.ActorQuery")]
public sealed record ActorQuery
{
    /// <summary>Only actors in this state (ALIVE, RESTARTING, DEAD, PENDING_CREATION).</summary>
    [Id(0)] public string? State { get; init; }

    /// <summary>Only actors of this class (its full name, or the name without its namespace).</summary>
    [Id(1)] public string? ClassName { get; init; }

    /// <summary>Only the actor of this name.</summary>
    [Id(2)] public string? Name { get; init; }

    /// <summary>Only actors of this job.</summary>
    [Id(3)] public string? JobId { get; init; }

    /// <summary>At most this many rows. Default 100.</summary>
    [Id(4)] public int Limit { get; init; } = 100;

    /// <summary>Whether <paramref name="actor"/> matches every filter set.</summary>
    public bool Matches(ActorInfo actor) =>
        (State is null || string.Equals(State, actor.State, StringComparison.OrdinalIgnoreCase)) &&
        (ClassName is null || string.Equals(ClassName, actor.ClassName, StringComparison.OrdinalIgnoreCase) ||
         actor.ClassName?.EndsWith("." + ClassName, StringComparison.OrdinalIgnoreCase) == true) &&
        (Name is null || string.Equals(Name, actor.Name, StringComparison.Ordinal)) &&
        (JobId is null || string.Equals(JobId, actor.JobId, StringComparison.OrdinalIgnoreCase));
}
