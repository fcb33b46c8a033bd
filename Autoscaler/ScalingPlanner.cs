using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>
/// Decides which nodes to add for the demands the cluster cannot hold (Ray's resource demand scheduler): each
/// waiting demand (queued on a node for resources, or infeasible on the nodes there are) is first fitted into the
/// free resources of the live nodes, then into nodes this round already plans, and only then opens a new node:
/// of the smallest type that can hold it and has room under its <see cref="NodeType.MaxWorkers"/>, within the
/// round's launch limit. Largest demands go first (first-fit decreasing), so small ones fill the gaps big ones
/// leave. A demand no type can ever hold is reported as infeasible and starts nothing. Pure: no clock, no I/O.
/// </summary>
internal static class ScalingPlanner
{
    /// <summary>The most single demands one round looks at (a backlog of a million tasks is planned from its first 10,000).</summary>
    public const int MaxDemands = 10_000;

    /// <param name="status">The cluster now: live nodes with their free resources, and the waiting demands.</param>
    /// <param name="requested">Bundles the cluster must be able to hold at once (Ray's <c>request_resources</c>), on its total resources.</param>
    /// <param name="workers">Worker nodes per type already running or starting.</param>
    /// <param name="types">The node types that may be started.</param>
    /// <param name="maxLaunch">The most nodes this round may start (the upscaling speed).</param>
    /// <param name="starting">
    /// Of <paramref name="workers"/>, those started but not in <paramref name="status"/> yet, per type: their whole
    /// resources count as room already on its way, or every round while a node boots would start another for
    /// the same waiting demands.
    /// </param>
    public static ScalePlan Plan(ClusterStatus status, IReadOnlyList<ResourceSet> requested, IReadOnlyDictionary<string, int> workers, IReadOnlyList<NodeType> types, int maxLaunch,
        IReadOnlyDictionary<string, int>? starting = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLaunch);
        var launch = new Dictionary<string, int>(StringComparer.Ordinal);
        var reasons = new List<string>();
        var planned = new List<Dictionary<string, double>>();
        var startingTotals = new List<Dictionary<string, double>>();
        foreach (var (name, count) in starting ?? new Dictionary<string, int>())
        {
            if (types.FirstOrDefault(t => t.Name == name) is { } startingType)
            {
                for (var i = 0; i < count; i++)
                {
                    planned.Add(Copy(startingType.Resources));
                    startingTotals.Add(Copy(startingType.Resources));
                }
            }
        }

        int Count(NodeType type) => workers.GetValueOrDefault(type.Name) + launch.GetValueOrDefault(type.Name);
        var launched = 0;

        // Every type's floor first: those nodes are kept whatever the demand.
        foreach (var type in types)
        {
            for (var missing = type.MinWorkers - Count(type); missing > 0; missing--)
            {
                launch[type.Name] = launch.GetValueOrDefault(type.Name) + 1;
                planned.Add(Copy(type.Resources));
            }

            if (launch.GetValueOrDefault(type.Name) is > 0 and var floor)
            {
                reasons.Add($"start {floor} x {type.Name}: MinWorkers is {type.MinWorkers}");
                launched += floor;
            }
        }

        var free = status.Nodes.Select(n => Copy(n.Available)).ToList();
        var infeasible = new List<ResourceSet>();
        var unfulfilled = new List<ResourceSet>();
        var demands = Expand(status.Pending.Concat(status.Infeasible)).ToList();
        demands.Sort(BySizeDescending);
        foreach (var demand in demands)
        {
            if (TryFit(demand, free) || TryFit(demand, planned))
            {
                continue;
            }

            var fitting = Fitting(demand, types);
            if (fitting.Count == 0)
            {
                infeasible.Add(demand);
                continue;
            }

            var type = fitting.FirstOrDefault(t => Count(t) < t.MaxWorkers);
            if (type is null || launched >= maxLaunch)
            {
                unfulfilled.Add(demand);
                continue;
            }

            launch[type.Name] = launch.GetValueOrDefault(type.Name) + 1;
            launched++;
            var node = Copy(type.Resources);
            Subtract(node, demand);
            planned.Add(node);
        }

        // Requested bundles must fit the cluster's totals (live and planned nodes), all at once.
        var plannedTotals = launch.SelectMany(l => Enumerable.Repeat(types.First(t => t.Name == l.Key).Resources, l.Value)).Select(Copy);
        var totals = status.Nodes.Select(n => Copy(n.Total)).Concat(startingTotals).Concat(plannedTotals).ToList();
        foreach (var bundle in requested.OrderByDescending(Size))
        {
            if (TryFit(bundle, totals))
            {
                continue;
            }

            var type = Fitting(bundle, types).FirstOrDefault(t => Count(t) < t.MaxWorkers);
            if (!types.Any(t => bundle.FitsIn(t.Resources)))
            {
                infeasible.Add(bundle);
            }
            else if (type is null || launched >= maxLaunch)
            {
                unfulfilled.Add(bundle);
            }
            else
            {
                launch[type.Name] = launch.GetValueOrDefault(type.Name) + 1;
                launched++;
                var node = Copy(type.Resources);
                Subtract(node, bundle);
                totals.Add(node);
            }
        }

        foreach (var (name, count) in launch)
        {
            var floor = Math.Max(0, types.First(t => t.Name == name).MinWorkers - workers.GetValueOrDefault(name));
            if (count > floor)
            {
                reasons.Add($"start {count - floor} x {name}: demands waiting that the live nodes cannot hold");
            }
        }

        if (infeasible.Count > 0)
        {
            reasons.Add($"{infeasible.Count} demand(s) fit no node type ({string.Join("; ", Summarize(infeasible).Select(d => $"{d.Count} x {d.Demand}"))}): not a reason to start anything");
        }

        if (unfulfilled.Count > 0)
        {
            reasons.Add($"{unfulfilled.Count} demand(s) wait for room: the node types' MaxWorkers or this round's limit of {maxLaunch} new nodes");
        }

        return new ScalePlan { Launch = launch, Infeasible = Summarize(infeasible), Unfulfilled = Summarize(unfulfilled), Reasons = reasons };
    }

    /// <summary>
    /// The types that can hold <paramref name="demand"/>, smallest first. A demand for no GPU never opens a GPU node
    /// while some type without GPUs can hold it (Ray conserves GPU nodes the same way): when those are at their
    /// maximum, the demand waits rather than taking a GPU node.
    /// </summary>
    private static List<NodeType> Fitting(ResourceSet demand, IReadOnlyList<NodeType> types)
    {
        var fitting = types.Where(t => demand.FitsIn(t.Resources)).OrderBy(t => Size(t.Resources)).ToList();
        if (demand[ResourceSet.Gpu] <= 0 && fitting.Any(t => t.Resources[ResourceSet.Gpu] <= 0))
        {
            fitting.RemoveAll(t => t.Resources[ResourceSet.Gpu] > 0);
        }

        return fitting;
    }

    private static IEnumerable<ResourceSet> Expand(IEnumerable<DemandSummary> demands)
    {
        var total = 0;
        foreach (var demand in demands)
        {
            for (var i = 0; i < demand.Count && total < MaxDemands; i++, total++)
            {
                yield return demand.Demand;
            }
        }
    }

    private static bool TryFit(ResourceSet demand, List<Dictionary<string, double>> bins)
    {
        foreach (var bin in bins)
        {
            if (demand.Amounts.All(a => bin.GetValueOrDefault(a.Key) + 1e-9 >= a.Value))
            {
                Subtract(bin, demand);
                return true;
            }
        }

        return false;
    }

    private static void Subtract(Dictionary<string, double> bin, ResourceSet demand)
    {
        foreach (var (name, amount) in demand.Amounts)
        {
            bin[name] = bin.GetValueOrDefault(name) - amount;
        }
    }

    private static Dictionary<string, double> Copy(ResourceSet set) => new(set.Amounts, StringComparer.Ordinal);

    /// <summary>GPUs weigh most (the scarce kind), then CPUs, then the rest; memory in GiB.</summary>
    private static double Size(ResourceSet set) =>
        set.Amounts.Sum(a => a.Key switch
        {
            ResourceSet.Gpu => a.Value * 1000,
            ResourceSet.Cpu => a.Value,
            ResourceSet.Memory => a.Value / (1024.0 * 1024 * 1024),
            _ => a.Value,
        });

    private static int BySizeDescending(ResourceSet a, ResourceSet b) => Size(b).CompareTo(Size(a));

    private static IReadOnlyList<DemandSummary> Summarize(List<ResourceSet> demands) =>
        demands.GroupBy(d => d.ToString()).Select(g => new DemandSummary { Demand = g.First(), Count = g.Count() }).ToList();
}
