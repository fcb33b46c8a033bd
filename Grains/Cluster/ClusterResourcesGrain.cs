using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Cluster;

/// <summary>
/// Holds the latest report of each node; a node silent for <see cref="StaleAfter"/> is dropped, and one that
/// membership has declared dead is left out at once (work sent to it would only fail).
/// Placed off draining nodes and moved off one that drains; it carries no state when it moves: every node reports
/// every second, so the new activation is complete again within one report (as after its silo dies).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class ClusterResourcesGrain(IClusterMembershipService membership, ClusterStateActivations stateGrains) : Grain, IClusterResourcesGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        return Task.CompletedTask;
    }

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

    private static readonly TimeSpan InfeasibleStaleAfter = TimeSpan.FromSeconds(15);
    private readonly Dictionary<string, (DemandSummary[] Demands, DateTime Received)> _infeasible = new(StringComparer.Ordinal);

    public Task ReportInfeasibleAsync(string reporter, DemandSummary[] demands)
    {
        if (demands.Length == 0)
        {
            _infeasible.Remove(reporter);
        }
        else
        {
            _infeasible[reporter] = (demands, DateTime.UtcNow);
        }

        return Task.CompletedTask;
    }

    public async Task<ClusterStatus> GetStatusAsync()
    {
        var nodes = (await GetNodesAsync()).OrderBy(n => n.NodeId, StringComparer.Ordinal).ToArray();
        var now = DateTime.UtcNow;
        foreach (var stale in _infeasible.Where(r => now - r.Value.Received > InfeasibleStaleAfter).Select(r => r.Key).ToList())
        {
            _infeasible.Remove(stale);
        }

        return new ClusterStatus
        {
            Nodes = nodes,
            Pending = Merge(nodes.SelectMany(n => n.Pending)),
            Infeasible = Merge(_infeasible.Values.SelectMany(r => r.Demands)),
        };
    }

    private static DemandSummary[] Merge(IEnumerable<DemandSummary> demands) =>
        demands.GroupBy(d => d.Demand.ToString())
            .Select(g => new DemandSummary { Demand = g.First().Demand, Count = g.Sum(d => d.Count), Example = g.Select(d => d.Example).FirstOrDefault(e => e is not null) })
            .OrderByDescending(d => d.Count)
            .ToArray();

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

    public async Task<ClusterNodes> GetViewAsync(long knownMembershipVersion)
    {
        var nodes = await GetNodesAsync();
        var snapshot = membership.CurrentSnapshot;
        var version = snapshot.Version.Value;
        return new ClusterNodes
        {
            Nodes = nodes,
            MembershipVersion = version,
            Dead = version == knownMembershipVersion
                ? null
                : snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress.ToParsableString()).ToArray(),
        };
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
