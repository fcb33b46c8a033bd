namespace RayOrleans.Messages;

/// <summary>
/// The nodes as a process's cluster view fetches them (<see cref="Grains.IClusterResourcesGrain.GetViewAsync"/>):
/// their latest reports, and the silos membership has declared dead, so a process learns of every death, also of a
/// node that joined and died between two of its refreshes (it never saw that node listed, so it cannot see it leave).
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ClusterNodes")]
public sealed record ClusterNodes
{
    /// <summary>The latest report of every live node.</summary>
    [Id(0)] public required NodeReport[] Nodes { get; init; }

    /// <summary>The version of the membership snapshot <see cref="Dead"/> was read from.</summary>
    [Id(1)] public long MembershipVersion { get; init; }

    /// <summary>
    /// Every silo membership lists as dead (its address, as <see cref="NodeReport.NodeId"/>); null when the caller
    /// already has the list of <see cref="MembershipVersion"/>, which keeps the usual refresh as small as before.
    /// </summary>
    [Id(2)] public string[]? Dead { get; init; }
}
