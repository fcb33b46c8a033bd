using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Cluster;

/// <summary>
/// Holds the latest report of each node; a node silent for <see cref="StaleAfter"/> is dropped, and one that
/// membership has declared dead is left out at once (work sent to it would only fail).
/// </summary>
[KeepAlive]
internal sealed class ClusterResourcesGrain(IClusterMembershipService membership) : Grain, IClusterResourcesGrain
{
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, (NodeReport Report, DateTime Received)> _nodes = new(StringComparer.Ordinal);

    public Task ReportAsync(NodeReport report)
    {
        _nodes[report.NodeId] = (report, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task RemoveNodeAsync(string nodeId)
    {
        _nodes.Remove(nodeId);
        return Task.CompletedTask;
    }

    public Task<NodeReport[]> GetNodesAsync()
    {
        var now = DateTime.UtcNow;
        foreach (var stale in _nodes.Where(n => now - n.Value.Received > StaleAfter).Select(n => n.Key).ToList())
        {
            _nodes.Remove(stale);
        }

        var snapshot = membership.CurrentSnapshot;
        return Task.FromResult(_nodes.Values.Select(n => n.Report).Where(r => !IsDead(snapshot, r.NodeId)).ToArray());
    }

    private static bool IsDead(ClusterMembershipSnapshot snapshot, string nodeId)
    {
        try
        {
            return snapshot.GetSiloStatus(SiloAddress.FromParsableString(nodeId)) == SiloStatus.Dead;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
