using RayOrleans.Messages;

namespace RayOrleans.Placement;

/// <summary>
/// Lays a placement group's bundles over nodes for its strategy, given what each node has room for: a node
/// per bundle, or null when the strategy cannot be met. Greedy, largest bundles first, as Ray's GCS
/// scheduler: it may miss a layout an exhaustive search would find, never returns one that does not fit.
/// </summary>
internal static class BundlePlanner
{
    private const double Epsilon = 1e-9;

    /// <param name="strategy">How to lay the bundles.</param>
    /// <param name="bundles">What each bundle needs.</param>
    /// <param name="nodes">Each node and its room (free resources for a placement now, totals for "ever").</param>
    public static string[]? Plan(PlacementGroupStrategy strategy, IReadOnlyList<ResourceSet> bundles, IReadOnlyList<(string Node, ResourceSet Room)> nodes)
    {
        var room = nodes.ToDictionary(n => n.Node, n => new Dictionary<string, double>(n.Room.Amounts, StringComparer.Ordinal), StringComparer.Ordinal);
        var order = Enumerable.Range(0, bundles.Count).OrderByDescending(i => bundles[i][ResourceSet.Gpu]).ThenByDescending(i => bundles[i][ResourceSet.Cpu]).ToArray();
        switch (strategy)
        {
            case PlacementGroupStrategy.StrictPack:
                return PackOnOne(bundles, room);
            case PlacementGroupStrategy.Pack:
                return PackOnOne(bundles, room) ?? Greedy(bundles, order, room, preferUsed: true, distinct: false);
            case PlacementGroupStrategy.StrictSpread:
                return Greedy(bundles, order, room, preferUsed: false, distinct: true);
            case PlacementGroupStrategy.Spread:
                return Greedy(bundles, order, room, preferUsed: false, distinct: true) ?? Greedy(bundles, order, room, preferUsed: false, distinct: false);
            default:
                throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown placement group strategy.");
        }
    }

    /// <summary>
    /// Lays again the bundles of a created group that were lost with their node, keeping the others where they
    /// are: a node per lost bundle, in the order of <paramref name="lost"/>, or null when the strategy cannot be met. As Ray's GCS: STRICT_SPREAD never uses a node holding another of the group's bundles;
    /// SPREAD avoids them while it can; PACK prefers them; STRICT_PACK must use the node of the kept bundles (a
    /// lost STRICT_PACK group lost every bundle, so it is laid whole again).
    /// </summary>
    /// <param name="strategy">The group's strategy.</param>
    /// <param name="bundles">What each of the group's bundles needs.</param>
    /// <param name="lost">The indexes of the lost bundles.</param>
    /// <param name="kept">The node of each bundle, by index; null for a lost one.</param>
    /// <param name="nodes">The live nodes and their room now (or their totals, for "ever").</param>
    public static string[]? Replan(PlacementGroupStrategy strategy, IReadOnlyList<ResourceSet> bundles, IReadOnlyList<int> lost, IReadOnlyList<string?> kept, IReadOnlyList<(string Node, ResourceSet Room)> nodes)
    {
        var lostBundles = lost.Select(i => bundles[i]).ToArray();
        var keptNodes = kept.OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (keptNodes.Count == 0)
        {
            return Plan(strategy, lostBundles, nodes);
        }

        var onKept = nodes.Where(n => keptNodes.Contains(n.Node)).ToArray();
        var offKept = nodes.Where(n => !keptNodes.Contains(n.Node)).ToArray();
        return strategy switch
        {
            PlacementGroupStrategy.StrictPack => Plan(PlacementGroupStrategy.StrictPack, lostBundles, onKept),
            PlacementGroupStrategy.Pack => Plan(PlacementGroupStrategy.StrictPack, lostBundles, onKept) ?? Plan(PlacementGroupStrategy.Pack, lostBundles, nodes),
            PlacementGroupStrategy.StrictSpread => Plan(PlacementGroupStrategy.StrictSpread, lostBundles, offKept),
            PlacementGroupStrategy.Spread => Plan(PlacementGroupStrategy.StrictSpread, lostBundles, offKept) ?? Plan(PlacementGroupStrategy.Spread, lostBundles, nodes),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown placement group strategy."),
        };
    }

    /// <summary>Every bundle on the one node with the most CPU room that holds them all.</summary>
    private static string[]? PackOnOne(IReadOnlyList<ResourceSet> bundles, Dictionary<string, Dictionary<string, double>> room)
    {
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var bundle in bundles)
        {
            foreach (var (name, amount) in bundle.Amounts)
            {
                sum[name] = sum.GetValueOrDefault(name) + amount;
            }
        }

        var node = room.Where(r => Fits(sum, r.Value)).OrderByDescending(r => r.Value.GetValueOrDefault(ResourceSet.Cpu)).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key).FirstOrDefault();
        return node is null ? null : Enumerable.Repeat(node, bundles.Count).ToArray();
    }

    /// <summary>
    /// Bundle by bundle (largest first): onto a node already used (<paramref name="preferUsed"/>) or a fresh
    /// one, the one with the most CPU room among those that fit; <paramref name="distinct"/> never reuses a node.
    /// </summary>
    private static string[]? Greedy(IReadOnlyList<ResourceSet> bundles, int[] order, Dictionary<string, Dictionary<string, double>> original, bool preferUsed, bool distinct)
    {
        var room = original.ToDictionary(r => r.Key, r => new Dictionary<string, double>(r.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        var plan = new string[bundles.Count];
        foreach (var i in order)
        {
            var demand = bundles[i].Amounts;
            var candidates = room.Where(r => Fits(demand, r.Value) && !(distinct && used.ContainsKey(r.Key)))
                .OrderBy(r => preferUsed ? (used.ContainsKey(r.Key) ? 0 : 1) : used.GetValueOrDefault(r.Key))
                .ThenByDescending(r => r.Value.GetValueOrDefault(ResourceSet.Cpu))
                .ThenBy(r => r.Key, StringComparer.Ordinal);
            var chosen = candidates.Select(r => r.Key).FirstOrDefault();
            if (chosen is null)
            {
                return null;
            }

            foreach (var (name, amount) in demand)
            {
                room[chosen][name] = room[chosen].GetValueOrDefault(name) - amount;
            }

            used[chosen] = used.GetValueOrDefault(chosen) + 1;
            plan[i] = chosen;
        }

        return plan;
    }

    private static bool Fits(IReadOnlyDictionary<string, double> demand, Dictionary<string, double> room)
    {
        foreach (var (name, amount) in demand)
        {
            if (room.GetValueOrDefault(name) + Epsilon < amount)
            {
                return false;
            }
        }

        return true;
    }
}
