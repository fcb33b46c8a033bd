using RayOrleans.Messages;

namespace RayOrleans.Placement;

/// <summary>
/// What <see cref="PlacementGroupGrain"/> keeps in grain storage (<see cref="Hosting.ClusterStateStorageOptions"/>),
/// written on every change of state or layout: an activation after its silo died reads it and carries on.
/// Serialized by the Orleans serializer, so a member added later needs only a new <c>[Id]</c>.
/// </summary>
[GenerateSerializer, Alias("ray.PlacementGroupRecord")]
internal sealed class PlacementGroupRecord
{
    /// <summary>What the group asked for; null before it was created (no record).</summary>
    [Id(0)] public PlacementGroupSpec? Spec { get; set; }

    [Id(1)] public PlacementGroupState State { get; set; }

    /// <summary>The node of each bundle, by index (empty while pending).</summary>
    [Id(2)] public string[] Nodes { get; set; } = [];

    /// <summary>Why it waits (pending or rescheduling).</summary>
    [Id(3)] public string? Reason { get; set; }

    /// <summary>No set of the cluster's nodes could hold it (or its lost bundles) at the last attempt.</summary>
    [Id(4)] public bool Infeasible { get; set; }
}
