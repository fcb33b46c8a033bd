using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>
/// What <see cref="ActorSupervisorGrain"/> keeps in grain storage (<see cref="Hosting.ClusterStateStorageOptions"/>),
/// written on every change: an activation after its silo died reads it and carries on (restarts the actor if its
/// node died meanwhile, finishes a restart that was on its way). Serialized by the Orleans serializer, so a member
/// added later needs only a new <c>[Id]</c>.
/// </summary>
[GenerateSerializer, Alias("ray.ActorSupervisorRecord")]
internal sealed class ActorSupervisorRecord
{
    /// <summary>The actor's spec, its <c>Restarts</c> the incarnation known; null before the actor first reported (no record).</summary>
    [Id(0)] public ActorSpec? Spec { get; set; }

    /// <summary>ALIVE, RESTARTING or DEAD.</summary>
    [Id(1)] public string State { get; set; } = "ALIVE";

    /// <summary>The node of the incarnation that is alive (null otherwise).</summary>
    [Id(2)] public string? Node { get; set; }

    /// <summary>The node the actor was lost with, while it is being restarted.</summary>
    [Id(3)] public string? LostOn { get; set; }

    /// <summary>Why it died for good.</summary>
    [Id(4)] public string? Cause { get; set; }

    /// <summary>When it died for good: the record is kept <c>KeptDead</c> after that to answer callers, then deleted.</summary>
    [Id(5)] public DateTime? DiedAtUtc { get; set; }
}
