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
}
