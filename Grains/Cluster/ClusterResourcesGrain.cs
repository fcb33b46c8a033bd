using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Cluster;

/// <summary>
/// Holds the latest report of each node; a node silent for <see cref="StaleAfter"/> is dropped, and one that
/// membership has declared dead is left out at once (work sent to it would only fail).
/// Placed off draining nodes and moved off one that drains; it carries no state when it moves: every node reports
/// every second. A new activation (after its silo died, or moved) first asks every active silo's node for its report,
/// so its first answer lists every live node: an answer that listed only the nodes that happened to report since would
/// steer choices wrongly (a restarted actor put back on its supervisor's node, the one node the view still held).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class ClusterResourcesGrain(IClusterMembershipService membership, ClusterStateActivations stateGrains) : Grain, IClusterResourcesGrain
{
    /// <summary>How long a new activation waits for one node's report; a node that does not answer reports itself within a second.</summary>
    private static readonly TimeSpan SeedWait = TimeSpan.FromSeconds(2);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        var active = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString())
            .ToArray();
        var reports = await Task.WhenAll(active.Select(AskAsync));
        var now = DateTime.UtcNow;
        foreach (var report in reports)
        {
            if (report is not null)
            {
                _nodes.TryAdd(report.NodeId, (report, now));
            }
        }

        async Task<NodeReport?> AskAsync(string node)
        {
            try
            {
                return await GrainFactory.GetGrain<INodeGrain>(node).GetReportAsync().WaitAsync(SeedWait, cancellationToken);
            }
            catch (Exception)
            {
                // Dying (its node grain refuses or times out), or still starting: it reports itself when it can.
                return null;
            }
        }
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
