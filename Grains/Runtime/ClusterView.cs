using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// A process's cached view of the nodes and their load, refreshed from <see cref="IClusterResourcesGrain"/>,
/// and the least-loaded choice of a node for a task or actor. Choices made since the last refresh count as
/// load, so a burst of submissions spreads over the nodes instead of piling onto the one that looked idle.
/// </summary>
internal sealed class ClusterView : IAsyncDisposable
{
    private readonly IGrainFactory _grains;
    private readonly TimeSpan _refresh;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private NodeReport[] _nodes = [];
    private Dictionary<string, int> _recent = new(StringComparer.Ordinal);
    private Dictionary<string, double> _spilledCpu = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _unreachable = new(StringComparer.Ordinal);
    private Task? _loop;

    /// <summary>
    /// How long a node that refused or dropped a call stays out of this process's choices. Membership takes
    /// seconds to declare a killed silo dead; until then the view still lists it, and work sent again would go
    /// straight back to it and fail again (spending a retry each time). A node that is in fact alive comes
    /// back after this, or at once when it is the only choice left.
    /// </summary>
    public static readonly TimeSpan UnreachableFor = TimeSpan.FromSeconds(15);

    public ClusterView(IGrainFactory grains, TimeSpan refresh)
    {
        _grains = grains;
        _refresh = refresh;
    }

    /// <summary>The nodes this process may choose for work: those reported, less those it found unreachable.</summary>
    public IReadOnlyList<NodeReport> Nodes => Volatile.Read(ref _nodes);

    /// <summary>Every node the cluster reported at the last refresh, reachable from here or not.</summary>
    public IReadOnlyList<NodeReport> Reported => Volatile.Read(ref _reported);

    private NodeReport[] _reported = [];

    /// <summary>The silos membership listed as dead at the last refresh that brought the list; null before the first.</summary>
    private HashSet<string>? _dead;

    /// <summary>The membership version <see cref="_dead"/> was read from (-1: none yet), sent so an unchanged list is not sent again.</summary>
    private long _membershipVersion = -1;

    public void Start() => _loop ??= Task.Run(RefreshLoopAsync);

    /// <summary>
    /// Nodes the cluster reported before and no longer does (dead by membership's verdict, or silent past the report
    /// deadline, or removed), and nodes membership declared dead since the first refresh, listed here or not: a node
    /// that joined and died between two refreshes was never listed, so it never leaves the list, yet it may have hosted
    /// directory shards. Raised on the refresh loop, so a handler must not block; a node may be named more than once.
    /// </summary>
    public event Action<IReadOnlyList<string>>? NodesLeft;

    /// <summary>Fetches the node list now; waits (up to <paramref name="timeout"/>) until at least one node reported.</summary>
    public async Task RefreshAsync(TimeSpan timeout = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var view = await _grains.GetGrain<IClusterResourcesGrain>(0).GetViewAsync(Volatile.Read(ref _membershipVersion)).ConfigureAwait(false);
            var nodes = view.Nodes;
            List<string>? left = null;
            lock (_gate)
            {
                if (view.Dead is not null)
                {
                    // The silos dead at the first refresh died before this process could own anything they hosted.
                    var dead = view.Dead.ToHashSet(StringComparer.Ordinal);
                    if (_dead is not null)
                    {
                        foreach (var node in dead)
                        {
                            if (!_dead.Contains(node))
                            {
                                (left ??= []).Add(node);
                            }
                        }
                    }

                    _dead = dead;
                    _membershipVersion = view.MembershipVersion;
                }

                if (_reported.Length > 0)
                {
                    var now = nodes.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
                    foreach (var was in _reported)
                    {
                        if (!now.Contains(was.NodeId) && left?.Contains(was.NodeId) != true)
                        {
                            (left ??= []).Add(was.NodeId);
                        }
                    }
                }

                _reported = nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal).ToArray();
                _nodes = WithoutUnreachable(WithoutDraining(_reported));
                _recent = new Dictionary<string, int>(StringComparer.Ordinal);
                _spilledCpu = new Dictionary<string, double>(StringComparer.Ordinal);
            }

            if (left is not null)
            {
                NodesLeft?.Invoke(left);
            }

            if (nodes.Length > 0 || DateTime.UtcNow >= deadline)
            {
                return;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Whether membership listed <paramref name="node"/> as dead at the last refresh that brought the list.</summary>
    public bool IsDead(string node)
    {
        lock (_gate)
        {
            return _dead?.Contains(node) == true;
        }
    }

    /// <summary>
    /// Leaves <paramref name="node"/> out of this process's choices for <see cref="UnreachableFor"/>: a call to it
    /// failed because it could not be reached (killed, or its connection dropped).
    /// </summary>
    public void MarkUnreachable(string node)
    {
        lock (_gate)
        {
            _unreachable[node] = Environment.TickCount64 + (long)UnreachableFor.TotalMilliseconds;
            _nodes = WithoutUnreachable(_nodes);
        }
    }

    /// <summary>Whether <paramref name="node"/> is marked unreachable now.</summary>
    public bool IsUnreachable(string node)
    {
        lock (_gate)
        {
            return _unreachable.TryGetValue(node, out var until) && until > Environment.TickCount64;
        }
    }

    /// <summary>
    /// The nodes less those draining (the autoscaler is removing them): filtered once per refresh, so a choice costs
    /// nothing more. Hard <c>NodeAffinity</c> still reaches a draining node (it reads the reported list); a view of
    /// draining nodes only keeps them (they pass work on, and a drain that cannot finish is cancelled).
    /// </summary>
    private static NodeReport[] WithoutDraining(NodeReport[] nodes)
    {
        var draining = 0;
        foreach (var node in nodes)
        {
            draining += node.Draining ? 1 : 0;
        }

        return draining == 0 || draining == nodes.Length ? nodes : nodes.Where(n => !n.Draining).ToArray();
    }

    private NodeReport[] WithoutUnreachable(NodeReport[] nodes)
    {
        if (_unreachable.Count == 0)
        {
            return nodes;
        }

        var now = Environment.TickCount64;
        foreach (var (node, until) in _unreachable.ToList())
        {
            if (until <= now)
            {
                _unreachable.Remove(node);
            }
        }

        var reachable = nodes.Where(n => !_unreachable.ContainsKey(n.NodeId)).ToArray();
        // Never an empty view from marks alone: with every node marked, the marks are likely wrong (a network
        // blip), and a view with nodes keeps work moving.
        return reachable.Length > 0 ? reachable : nodes;
    }

    /// <summary>
    /// The node to run a demand on under <paramref name="strategy"/> (null: the default policy); null when no
    /// node in the view may hold it.
    /// </summary>
    /// <remarks>
    /// <c>avoid</c> names a node to leave out while another one fits (a restarted actor's supervisor's node, so
    /// one later node death never takes both); a hard affinity still gets its own node.
    /// </remarks>
    public string? Pick(ResourceSet demand, SchedulingStrategy? strategy, string? preferred, bool forActor, string? avoid = null)
    {
        switch (strategy?.Kind)
        {
            case SchedulingKind.NodeAffinity:
                lock (_gate)
                {
                    // The named node as reported: a hard affinity waits for its own node, not for this process's
                    // marks (a soft one falls back to another node while its node is marked unreachable).
                    foreach (var node in strategy.Soft ? _nodes : _reported)
                    {
                        if (node.NodeId == strategy.NodeId && demand.FitsIn(node.Total))
                        {
                            _recent[node.NodeId] = _recent.GetValueOrDefault(node.NodeId) + 1;
                            return node.NodeId;
                        }
                    }
                }

                return strategy.Soft ? PickNode(demand, preferred, forActor, avoid: avoid) : null;
            case SchedulingKind.Spread:
                return PickSpread(demand, avoid);
            case SchedulingKind.NodeLabels:
                return PickNode(demand, preferred, forActor, strategy, avoid) ?? (strategy.Soft ? PickNode(demand, preferred, forActor, avoid: avoid) : null);
            default:
                return PickNode(demand, preferred, forActor, avoid: avoid);
        }
    }

    /// <summary>
    /// Round-robin over the nodes whose totals fit the demand, in node-id order, from where this process's
    /// last spread choice left off. Free resources are not consulted: the view's are up to a second old, so a
    /// burst would all go to whichever node looked free; a busy node queues the work or passes it on.
    /// </summary>
    private string? PickSpread(ResourceSet demand, string? avoid)
    {
        lock (_gate)
        {
            var feasible = _nodes.Where(n => demand.FitsIn(n.Total)).ToArray();
            if (avoid is not null && feasible.Length > 1 && feasible.Any(n => n.NodeId == avoid))
            {
                feasible = feasible.Where(n => n.NodeId != avoid).ToArray();
            }

            if (feasible.Length == 0)
            {
                return null;
            }

            var node = feasible[(int)(unchecked((uint)_spreadCursor++) % (uint)feasible.Length)];
            _recent[node.NodeId] = _recent.GetValueOrDefault(node.NodeId) + 1;
            return node.NodeId;
        }
    }

    private int _spreadCursor;

    /// <summary>
    /// The node to run a demand on: among the nodes whose totals fit it, the one with the least load per
    /// CPU; null when none fits. <paramref name="preferred"/> (the caller's own node) wins while it is under
    /// half loaded, as Ray's hybrid policy keeps work local until the node is busy. <paramref name="avoid"/> is
    /// chosen only when no other node fits.
    /// </summary>
    public string? PickNode(ResourceSet demand, string? preferred, bool forActor, SchedulingStrategy? labels = null, string? avoid = null)
    {
        lock (_gate)
        {
            return PickNodeLocked(demand, preferred, forActor, labels, avoid) ?? (avoid is null ? null : PickNodeLocked(demand, preferred, forActor, labels, null));
        }
    }

    private string? PickNodeLocked(ResourceSet demand, string? preferred, bool forActor, SchedulingStrategy? labels, string? skip)
    {
        NodeReport? best = null;
        double bestLoad = double.MaxValue;
        var ties = 0;
        foreach (var node in _nodes)
        {
            if (node.NodeId == skip || !demand.FitsIn(node.Total) || (labels is not null && !labels.Matches(node.Labels)))
            {
                continue;
            }

            _recent.TryGetValue(node.NodeId, out var recent);
            var cpus = Math.Max(node.Total[ResourceSet.Cpu], 1);
            var load = forActor
                ? (node.Actors + recent) / cpus
                : (node.Running + node.Queued + recent) / cpus;
            if (node.NodeId == preferred && load < 0.5)
            {
                best = node;
                break;
            }

            if (load < bestLoad - 1e-9)
            {
                best = node;
                bestLoad = load;
                ties = 1;
            }
            else if (Math.Abs(load - bestLoad) <= 1e-9 && Random.Shared.Next(++ties) == 0)
            {
                // Equal loads: pick uniformly among them (reservoir sampling) so idle nodes share work.
                best = node;
            }
        }

        if (best is null)
        {
            return null;
        }

        _recent[best.NodeId] = _recent.GetValueOrDefault(best.NodeId) + 1;
        return best.NodeId;
    }

    /// <summary>
    /// Another node whose free resources (as last reported, less what this node already passed to it since)
    /// fit <paramref name="demand"/> now, the freest first; null when none does.
    /// </summary>
    public string? PickSpillback(ResourceSet demand, string self)
    {
        lock (_gate)
        {
            NodeReport? best = null;
            var bestFree = double.MinValue;
            foreach (var node in _nodes)
            {
                if (node.NodeId == self || !demand.FitsIn(node.Available))
                {
                    continue;
                }

                var free = node.Available[ResourceSet.Cpu] - _spilledCpu.GetValueOrDefault(node.NodeId);
                if (free + 1e-9 >= demand[ResourceSet.Cpu] && free > bestFree)
                {
                    best = node;
                    bestFree = free;
                }
            }

            if (best is not null)
            {
                _spilledCpu[best.NodeId] = _spilledCpu.GetValueOrDefault(best.NodeId) + Math.Max(demand[ResourceSet.Cpu], 1e-3);
            }

            return best?.NodeId;
        }
    }

    /// <summary>Why no node may take <paramref name="demand"/> under <paramref name="strategy"/>, for the error the caller sees.</summary>
    public string DescribeInfeasible(ResourceSet demand, SchedulingStrategy? strategy)
    {
        if (strategy is { Kind: SchedulingKind.NodeLabels, Soft: false })
        {
            var matching = Nodes.Where(n => strategy.Matches(n.Labels)).ToList();
            return matching.Count == 0
                ? $"its strategy {strategy} matches no node"
                : $"it needs {demand} but the nodes with those labels offer {string.Join("; ", matching.Select(n => n.Total.ToString()))}";
        }

        if (strategy is { Kind: SchedulingKind.NodeAffinity, Soft: false } affinity)
        {
            var target = Nodes.FirstOrDefault(n => n.NodeId == affinity.NodeId);
            return target is null
                ? $"its strategy {affinity} names a node that is not in the cluster (dead, or never joined)"
                : $"its strategy {affinity} names a node that has {target.Total} in all, and it needs {demand}";
        }

        return DescribeInfeasible(demand);
    }

    /// <summary>Why no node fits <paramref name="demand"/>, for the error the caller sees.</summary>
    public string DescribeInfeasible(ResourceSet demand)
    {
        var nodes = Nodes;
        return nodes.Count == 0
            ? "the cluster has no nodes"
            : $"it needs {demand} but the nodes offer {string.Join("; ", nodes.Select(n => n.Total.ToString()))}";
    }

    private async Task RefreshLoopAsync()
    {
        using var timer = new PeriodicTimer(_refresh);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // A refresh that fails (silo restarting, client reconnecting) keeps the last view; the
                    // next tick tries again (or the loop ends, when stopping).
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            // A refresh in flight to a dead silo waits for Orleans' response timeout: do not hold the
            // driver's exit for it.
            await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
    }
}
