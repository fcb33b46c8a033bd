using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>
/// Which worker nodes have been idle long enough to remove (Ray's idle_timeout_minutes), with hysteresis: a node
/// is idle only with no task queued or running, no actor and all its resources free (no placement-group bundle), and
/// it must stay so for the whole timeout; nothing is removed while demands wait or shortly after a launch, so the
/// cluster does not flap between adding and removing. Objects in its store do not keep it: the drain before removal
/// moves the only copies elsewhere and drops the others (unlike Ray, which keeps nodes up for their copies).
/// </summary>
internal sealed class IdleNodes
{
    private readonly Dictionary<string, DateTime> _idleSince = new(StringComparer.Ordinal);

    /// <summary>Records what every live node is doing at <paramref name="now"/>.</summary>
    public void Observe(ClusterStatus status, DateTime now)
    {
        var live = new HashSet<string>(status.Nodes.Select(n => n.NodeId), StringComparer.Ordinal);
        foreach (var gone in _idleSince.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _idleSince.Remove(gone);
        }

        foreach (var node in status.Nodes)
        {
            if (IsIdle(node))
            {
                _idleSince.TryAdd(node.NodeId, now);
            }
            else
            {
                _idleSince.Remove(node.NodeId);
            }
        }
    }

    /// <summary>Since when <paramref name="nodeId"/> has been idle without a break; null when it is not idle.</summary>
    public DateTime? IdleSince(string nodeId) => _idleSince.TryGetValue(nodeId, out var since) ? since : null;

    /// <summary>A node's drain was cancelled: its idle time counts again from <paramref name="now"/>, so it is not drained again at once.</summary>
    public void Restart(string nodeId, DateTime now) => _idleSince[nodeId] = now;

    /// <summary>Whether a node does nothing and holds no resources (objects it stores are moved by the drain).</summary>
    public static bool IsIdle(NodeReport node) =>
        node.Queued == 0 && node.Running == 0 && node.Actors == 0 &&
        node.Total.Amounts.All(t => node.Available[t.Key] + 1e-9 >= t.Value);

    /// <summary>
    /// The workers to remove now: idle for at least <paramref name="idleTimeout"/>, none while demands wait or
    /// within <paramref name="cooldown"/> of the last launch, and never below a type's MinWorkers.
    /// </summary>
    /// <param name="status">The cluster now.</param>
    /// <param name="workers">The autoscaler's worker nodes: node id to node type (the head is never among them).</param>
    /// <param name="now">The time of this round.</param>
    /// <param name="idleTimeout">How long a node must have been idle.</param>
    /// <param name="lastLaunch">When the autoscaler last started a node, if ever.</param>
    /// <param name="cooldown">How long after a launch nothing is removed.</param>
    public IReadOnlyList<string> Removable(ClusterStatus status, IReadOnlyDictionary<string, NodeType> workers, DateTime now, TimeSpan idleTimeout, DateTime? lastLaunch, TimeSpan cooldown)
    {
        if (status.Pending.Length > 0 || (lastLaunch is { } launched && now - launched < cooldown))
        {
            return [];
        }

        var remaining = workers.GroupBy(w => w.Value.Name).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var removable = new List<string>();
        foreach (var (node, type) in workers.OrderBy(w => _idleSince.GetValueOrDefault(w.Key, DateTime.MaxValue)))
        {
            if (_idleSince.TryGetValue(node, out var since) && now - since >= idleTimeout && remaining[type.Name] > type.MinWorkers)
            {
                removable.Add(node);
                remaining[type.Name]--;
            }
        }

        return removable;
    }
}
