using RayOrleans.Autoscaler;
using RayOrleans.Messages;

namespace RayOrleans.Tests;

/// <summary>The autoscaler's decisions, on cluster states written out: what it starts, what it reports, what it removes.</summary>
public sealed class ScalingPlannerTests
{
    private static readonly NodeType Cpu2 = new() { Name = "cpu-2", Resources = Set(("CPU", 2)), MaxWorkers = 3 };
    private static readonly NodeType Gpu1 = new() { Name = "gpu-1", Resources = Set(("CPU", 8), ("GPU", 1)), MaxWorkers = 2 };

    [Fact]
    public void Twelve_one_cpu_tasks_on_a_busy_two_cpu_head_start_workers_up_to_the_types_maximum()
    {
        // The head runs 2 of them; 10 wait. 3 workers of 2 CPUs hold 6: the other 4 wait for room.
        var status = Status([Node("head", total: Set(("CPU", 2)), available: Set(("CPU", 0)), running: 2)], pending: [(Set(("CPU", 1)), 10)]);
        var plan = ScalingPlanner.Plan(status, [], new Dictionary<string, int>(), [Cpu2, Gpu1], maxLaunch: 10);
        Assert.Equal(3, plan.Launch["cpu-2"]);
        Assert.False(plan.Launch.ContainsKey("gpu-1")); // CPU demands never open a GPU node while a CPU-only type could hold them
        Assert.Equal(4, plan.Unfulfilled.Sum(d => d.Count));
        Assert.Empty(plan.Infeasible);
        Assert.Contains(plan.Reasons, r => r.StartsWith("start 3 x cpu-2", StringComparison.Ordinal));

        // Workers already there count against the maximum; free resources are used before anything starts.
        var later = Status([Node("head", Set(("CPU", 2)), Set(("CPU", 1))), Node("w1", Set(("CPU", 2)), Set(("CPU", 2)))], pending: [(Set(("CPU", 1)), 3)]);
        Assert.True(ScalingPlanner.Plan(later, [], new Dictionary<string, int> { ["cpu-2"] = 3 }, [Cpu2], 10).IsEmpty);
        Assert.True(ScalingPlanner.Plan(later with { Pending = [new DemandSummary { Demand = Set(("CPU", 1)), Count = 3 }] }, [], new Dictionary<string, int> { ["cpu-2"] = 1 }, [Cpu2], 10).IsEmpty);
    }

    [Fact]
    public void A_demand_no_node_type_can_hold_is_reported_and_starts_nothing()
    {
        var status = Status([Node("head", Set(("CPU", 2)), Set(("CPU", 2)))], infeasible: [(Set(("CPU", 16)), 1)]);
        var plan = ScalingPlanner.Plan(status, [], new Dictionary<string, int>(), [Cpu2, Gpu1], 10);
        Assert.True(plan.IsEmpty);
        var reported = Assert.Single(plan.Infeasible);
        Assert.Equal(16, reported.Demand["CPU"]);
        Assert.Contains(plan.Reasons, r => r.Contains("fit no node type", StringComparison.Ordinal));
    }

    [Fact]
    public void A_gpu_demand_infeasible_on_the_live_nodes_starts_a_gpu_node_and_the_launch_limit_holds()
    {
        var status = Status([Node("head", Set(("CPU", 2)), Set(("CPU", 2)))], infeasible: [(Set(("GPU", 1)), 2)], pending: [(Set(("CPU", 2)), 5)]);
        var plan = ScalingPlanner.Plan(status, [], new Dictionary<string, int>(), [Cpu2, Gpu1], maxLaunch: 3);
        Assert.Equal(2, plan.Launch["gpu-1"]); // largest (GPU) demands first; the GPU nodes' spare CPUs then hold the CPU demands
        Assert.False(plan.Launch.ContainsKey("cpu-2"));

        // One new node per round: the second GPU demand waits for the next round.
        var slow = ScalingPlanner.Plan(status, [], new Dictionary<string, int>(), [Cpu2, Gpu1], maxLaunch: 1);
        Assert.Equal(1, slow.Launch["gpu-1"]);
        Assert.Equal(1, slow.Unfulfilled.Where(d => d.Demand["GPU"] > 0).Sum(d => d.Count));
    }

    [Fact]
    public void MinWorkers_are_started_and_requested_resources_count_against_the_clusters_totals()
    {
        var floor = Cpu2 with { MinWorkers = 1 };
        var status = Status([Node("head", Set(("CPU", 2)), Set(("CPU", 2)))]);
        var plan = ScalingPlanner.Plan(status, [Set(("CPU", 2)), Set(("CPU", 2)), Set(("CPU", 2))], new Dictionary<string, int>(), [floor], 10);
        // The head holds one bundle, the MinWorkers node a second, a third needs one more node.
        Assert.Equal(2, plan.Launch["cpu-2"]);
    }

    [Fact]
    public void Idle_workers_go_after_the_timeout_never_below_MinWorkers_and_not_while_demands_wait()
    {
        var idle = new IdleNodes();
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var type = Cpu2 with { MinWorkers = 1 };
        var workers = new Dictionary<string, NodeType> { ["w1"] = type, ["w2"] = type, ["w3"] = type };
        var busy = Status([Node("head", Set(("CPU", 2)), Set(("CPU", 2))), Node("w1", Set(("CPU", 2)), Set(("CPU", 2))),
                           Node("w2", Set(("CPU", 2)), Set(("CPU", 2))), Node("w3", Set(("CPU", 2)), Set(("CPU", 1)), running: 1)]);
        idle.Observe(busy, t0);
        Assert.Empty(idle.Removable(busy, workers, t0.AddSeconds(30), TimeSpan.FromSeconds(60), lastLaunch: null, TimeSpan.Zero));
        idle.Observe(busy, t0.AddSeconds(61));
        // w1 and w2 were idle for 61 s, w3 works: one of w1/w2 goes; the other stays for MinWorkers... and w3 counts.
        var removable = idle.Removable(busy, workers, t0.AddSeconds(61), TimeSpan.FromSeconds(60), lastLaunch: null, TimeSpan.Zero);
        Assert.Equal(2, removable.Count);
        Assert.DoesNotContain("w3", removable);

        // Objects in its store do not keep a node (its drain moves or drops them); a held CPU, a demand waiting
        // anywhere, or a launch just made does: nothing goes.
        Assert.True(IdleNodes.IsIdle(new NodeReport { NodeId = "w1", Total = Set(("CPU", 2)), Available = Set(("CPU", 2)), ObjectCount = 1 }));
        Assert.False(IdleNodes.IsIdle(new NodeReport { NodeId = "w1", Total = Set(("CPU", 2)), Available = Set(("CPU", 1)) })); // a bundle or a task holds a CPU
        Assert.Empty(idle.Removable(busy with { Pending = [new DemandSummary { Demand = Set(("CPU", 1)), Count = 1 }] }, workers, t0.AddSeconds(61), TimeSpan.FromSeconds(60), null, TimeSpan.Zero));
        Assert.Empty(idle.Removable(busy, workers, t0.AddSeconds(61), TimeSpan.FromSeconds(60), lastLaunch: t0.AddSeconds(50), TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Nodes_still_starting_count_as_room_so_a_booting_node_is_not_started_twice()
    {
        var status = Status([Node("head", Set(("CPU", 2)), Set(("CPU", 0)), running: 2)], pending: [(Set(("CPU", 1)), 4)]);
        var first = ScalingPlanner.Plan(status, [], new Dictionary<string, int>(), [Cpu2], 10);
        Assert.Equal(2, first.Launch["cpu-2"]);

        // The next round, both are starting and not in the status yet: nothing more starts for the same four demands.
        var starting = new Dictionary<string, int> { ["cpu-2"] = 2 };
        Assert.True(ScalingPlanner.Plan(status, [], starting, [Cpu2], 10, starting).IsEmpty);

        // Two more demands than the starting nodes hold: one more node.
        var more = status with { Pending = [new DemandSummary { Demand = Set(("CPU", 1)), Count = 6 }] };
        Assert.Equal(1, ScalingPlanner.Plan(more, [], starting, [Cpu2], 10, starting).Launch["cpu-2"]);
    }

    private static ResourceSet Set(params (string Name, double Amount)[] amounts) => new(amounts.ToDictionary(a => a.Name, a => a.Amount));

    private static NodeReport Node(string id, ResourceSet total, ResourceSet available, int running = 0) =>
        new() { NodeId = id, Total = total, Available = available, Running = running };

    private static ClusterStatus Status(NodeReport[] nodes, (ResourceSet Demand, int Count)[]? pending = null, (ResourceSet Demand, int Count)[]? infeasible = null) => new()
    {
        Nodes = nodes,
        Pending = (pending ?? []).Select(p => new DemandSummary { Demand = p.Demand, Count = p.Count }).ToArray(),
        Infeasible = (infeasible ?? []).Select(p => new DemandSummary { Demand = p.Demand, Count = p.Count }).ToArray(),
    };
}
