using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// The cluster's resource view (a slice of Ray's GCS): every node reports here at least every second, and
/// drivers and placement read the latest reports.
/// </summary>
public interface IClusterResourcesGrain : IGrainWithIntegerKey
{
    /// <summary>Stores a node's latest report.</summary>
    [AlwaysInterleave]
    Task ReportAsync(NodeReport report);

    /// <summary>Drops a node that left.</summary>
    [AlwaysInterleave]
    Task RemoveNodeAsync(string nodeId);

    /// <summary>
    /// Stores what one process (a driver or node, named by <paramref name="reporter"/>) holds back because no
    /// node can ever run it; an empty list clears it. A reporter silent for a while is dropped.
    /// </summary>
    [AlwaysInterleave]
    Task ReportInfeasibleAsync(string reporter, DemandSummary[] demands);

    /// <summary>Nodes, demands queued on them, and infeasible demands (<c>ray status</c>).</summary>
    [AlwaysInterleave]
    Task<ClusterStatus> GetStatusAsync();

    /// <summary>The latest report of every known node.</summary>
    [AlwaysInterleave]
    Task<NodeReport[]> GetNodesAsync();

    /// <summary>
    /// What a process's cluster view refreshes from: the latest report of every known node, and the silos membership
    /// declared dead unless <paramref name="knownMembershipVersion"/> is the version they were read from. Bounded by
    /// a short timeout: a refresh sent to this grain's silo as it died must not hold the view (and the re-publishing
    /// that waits on it) for the default 30 s; the next refresh reaches the new activation.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task<ClusterNodes> GetViewAsync(long knownMembershipVersion);
}
