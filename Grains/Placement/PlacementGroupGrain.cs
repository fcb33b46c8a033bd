using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Recovery;

namespace RayOrleans.Placement;

/// <summary>
/// One placement group. It lays the bundles over nodes from the cluster view (<see cref="BundlePlanner"/>),
/// asks each chosen node to reserve its bundle, and keeps the result only if every node said yes; otherwise
/// it gives back what was reserved and tries again twice a second, so a group is never half placed. A group
/// no set of nodes could ever hold waits too (logged once), until nodes that can join.
/// <para>
/// As Ray's GCS: when a node holding some of its bundles dies, the group goes to rescheduling, keeps the bundles
/// on live nodes, reserves the lost ones again on other nodes by its strategy (<see cref="BundlePlanner.Replan"/>)
/// and is created again. Its record (<see cref="PlacementGroupRecord"/>) is written to grain storage on every
/// change, so an activation after its own silo died reads it and carries on; the node-death fan-out
/// (<see cref="Recovery.RecoveryIndexFailover"/>, <see cref="RecoveryIndexGrain"/>) is what wakes it then.
/// </para>
/// Placed off draining nodes; a drain migrates it with its record (the bundles stay reserved on their nodes).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed partial class PlacementGroupGrain(
    [PersistentState("group", ClusterStateStorageOptions.ProviderName)] IPersistentState<PlacementGroupRecord> stored,
    ClusterStateActivations stateGrains,
    IClusterMembershipService membership,
    ILogger<PlacementGroupGrain> logger)
    : Grain, IPlacementGroupGrain
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RemovedKeptFor = TimeSpan.FromMinutes(1);

    /// <summary>Completed and replaced on every change of state or layout: what parked waits wake on.</summary>
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Nodes we were told are dead, before this silo's membership view may say so.</summary>
    private readonly HashSet<string> _dead = new(StringComparer.Ordinal);
    private bool _loggedInfeasible;
    private IGrainTimer? _retry;
    private long _reschedulingSince;

    private PlacementGroupRecord Record => stored.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        if (Record.Spec is not { } spec)
        {
            return;
        }

        // Migrated, or woken after the silo it lived on died: carry on where the record is.
        _loggedInfeasible = Record.Infeasible;
        switch (Record.State)
        {
            case PlacementGroupState.Pending:
                StartRetrying(RetryInterval);
                break;
            case PlacementGroupState.Rescheduling:
                _reschedulingSince = Stopwatch.GetTimestamp();
                StartRetrying(TimeSpan.Zero);
                break;
            case PlacementGroupState.Created when LostBundles().Count > 0:
                // A node of ours died while nobody held this group: reserve its bundles again.
                await RescheduleAsync();
                break;
            case PlacementGroupState.Removed:
                // Its silo died half way through the removal: finish it.
                await FinishRemovalAsync(spec);
                DeactivateOnIdle();
                break;
        }

        LogResumed(logger, spec.Id, Record.State);
    }

    public async Task<PlacementGroupInfo> CreateAsync(PlacementGroupSpec spec)
    {
        if (Record.Spec is not null)
        {
            return Info();
        }

        if (spec.Name is { } name && !await GrainFactory.GetGrain<IPlacementGroupRegistryGrain>(spec.Namespace).TryRegisterAsync(name, spec.Id))
        {
            throw new ArgumentException($"A placement group named '{name}' already exists in namespace '{spec.Namespace}'.");
        }

        // Listed before its record is written: a crash between the two leaves a listed id with no record (which
        // a wake-up ignores), never a group that no node death would wake.
        await RecoveryIndexGrain.For(GrainFactory, RecoveryKinds.PlacementGroups, spec.Id).AddAsync(spec.Id);
        Record.Spec = spec;
        Record.State = PlacementGroupState.Pending;

        // The retry timer first, so a first attempt that throws (the view grain moving) is tried again.
        StartRetrying(RetryInterval);
        await TryPlaceOnceAsync();

        // One write before the answer: Created (written by the placement) or Pending. Not Pending first and then
        // Created: a crash after the reservations and before the write fails the driver's call either way, and its
        // retry places the group again (the reservations already made leak in both cases); the second write was a
        // third of a group's storage traffic.
        if (Record.State == PlacementGroupState.Pending)
        {
            await WriteAsync();
        }

        return Info();
    }

    public async Task<PlacementGroupInfo> WaitAsync(TimeSpan maxWait, string[]? avoid = null)
    {
        if (Record.Spec is null)
        {
            DeactivateOnIdle(); // woken only by this question
            throw new InvalidOperationException($"No placement group has id {this.GetPrimaryKey():N}.");
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        while (!Settled(avoid))
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            try
            {
                await _changed.Task.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                break;
            }
        }

        return Info();
    }

    public Task<PlacementGroupInfo?> GetInfoAsync()
    {
        if (Record.Spec is null)
        {
            DeactivateOnIdle(); // woken only by this question: no such group
            return Task.FromResult<PlacementGroupInfo?>(null);
        }

        return Task.FromResult<PlacementGroupInfo?>(Info());
    }

    public async Task RemoveAsync()
    {
        if (Record.Spec is not { } spec || Record.State == PlacementGroupState.Removed)
        {
            return;
        }

        Record.State = PlacementGroupState.Removed;
        _retry?.Dispose();
        Changed();
        LogRemoved(logger, spec.Id);
        // Written first: if this silo dies before the bundles are back, the group's next activation gives them back.
        await WriteAsync();
        await FinishRemovalAsync(spec);

        // Kept a minute so its state can still be read as removed, then let go (groups come and go by the thousand).
        this.RegisterGrainTimer(() =>
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }, RemovedKeptFor, RemovedKeptFor);
        if (spec.Name is { } name)
        {
            await GrainFactory.GetGrain<IPlacementGroupRegistryGrain>(spec.Namespace).UnregisterAsync(name, spec.Id);
        }
    }

    public async Task NodeDiedAsync(string node)
    {
        if (Record.Spec is null)
        {
            DeactivateOnIdle(); // listed but never recorded, or removed meanwhile
            return;
        }

        _dead.Add(node);
        if (Record.State == PlacementGroupState.Created && Record.Nodes.Contains(node, StringComparer.Ordinal))
        {
            await RescheduleAsync();
        }
    }

    /// <summary>Created to rescheduling: the lost bundles are reserved again from the next timer tick on.</summary>
    private async Task RescheduleAsync()
    {
        var lost = LostBundles();
        Record.State = PlacementGroupState.Rescheduling;
        Record.Reason = $"bundle(s) {string.Join(", ", lost)} were lost with node(s) {string.Join(", ", lost.Select(i => Record.Nodes[i]).Distinct())}; reserving them again";
        Record.Infeasible = false;
        _loggedInfeasible = false;
        _reschedulingSince = Stopwatch.GetTimestamp();
        LogRescheduling(logger, Record.Spec!.Id, Record.Reason);
        await WriteAsync();
        Changed();
        // Not placed in this call: a node death wakes every group, and the fan-out should not wait on each one's placement.
        StartRetrying(TimeSpan.Zero);
    }

    private async Task FinishRemovalAsync(PlacementGroupSpec spec)
    {
        await ReturnAsync(Record.Nodes);
        // Both idempotent, so together: a crash before either ends leaves the Removed record, whose next
        // activation finishes the removal.
        await Task.WhenAll(
            RecoveryIndexGrain.For(GrainFactory, RecoveryKinds.PlacementGroups, spec.Id).RemoveAsync(spec.Id),
            stored.ClearStateAsync());
        // The record is gone from storage; this activation keeps answering "removed" until it is let go.
        stored.State = new PlacementGroupRecord { Spec = spec, State = PlacementGroupState.Removed };
    }

    private void StartRetrying(TimeSpan dueTime)
    {
        _retry?.Dispose();
        _retry = this.RegisterGrainTimer(TryPlaceOnceAsync, dueTime, RetryInterval);
    }

    private async Task TryPlaceOnceAsync()
    {
        try
        {
            switch (Record.State)
            {
                case PlacementGroupState.Pending:
                    await TryPlaceAsync();
                    break;
                case PlacementGroupState.Rescheduling:
                    await TryReplaceLostAsync();
                    break;
                default:
                    _retry?.Dispose();
                    break;
            }
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            Record.Reason = $"placing failed ({e.Message}); trying again";
        }
    }

    /// <summary>One all-or-nothing attempt: plan from the view, reserve everywhere, keep it or give it all back.</summary>
    private async Task TryPlaceAsync()
    {
        var spec = Record.Spec!;
        var nodes = await LiveNodesAsync();
        var plan = BundlePlanner.Plan(spec.Strategy, spec.Bundles, nodes.Select(n => (n.NodeId, n.Available)).ToArray());
        if (plan is null)
        {
            var infeasible = BundlePlanner.Plan(spec.Strategy, spec.Bundles, nodes.Select(n => (n.NodeId, n.Total)).ToArray()) is null;
            Waiting(infeasible, infeasible
                ? $"no set of the cluster's {nodes.Length} node(s) can ever hold it {Describe(spec)}; it waits for nodes that can to join (largest node: {nodes.OrderByDescending(n => n.Total[ResourceSet.Cpu]).FirstOrDefault()?.Total.ToString() ?? "none"})"
                : $"the nodes have no room for it {Describe(spec)} now; it waits for resources to free up");
            return;
        }

        var reserved = await Task.WhenAll(plan.Select((node, i) => ReserveAsync(node, spec.Id, i, spec.Bundles[i])));
        if (reserved.All(r => r))
        {
            await CreatedAsync(plan);
            LogCreated(logger, spec.Id, string.Join(", ", plan));
            return;
        }

        // Another demand took the room between the view and the reservation: nothing is kept.
        Record.Reason = $"a node had no room left when asked to reserve a bundle {Describe(spec)}; trying again";
        await ReturnAsync(plan);
    }

    /// <summary>
    /// One attempt at reserving the bundles lost with dead nodes, the others kept where they are: all of the
    /// lost ones or none (what this attempt reserved is given back).
    /// </summary>
    private async Task TryReplaceLostAsync()
    {
        var spec = Record.Spec!;
        var lost = LostBundles();
        var kept = Record.Nodes.Select((node, i) => lost.Contains(i) ? null : node).ToArray();
        var nodes = await LiveNodesAsync();
        var plan = lost.Count == 0 ? [] : BundlePlanner.Replan(spec.Strategy, spec.Bundles, lost, kept, nodes.Select(n => (n.NodeId, n.Available)).ToArray());
        if (plan is null)
        {
            var infeasible = BundlePlanner.Replan(spec.Strategy, spec.Bundles, lost, kept, nodes.Select(n => (n.NodeId, n.Total)).ToArray()) is null;
            var what = $"bundle(s) {string.Join(", ", lost)} were lost with their node(s) {Describe(spec)}";
            Waiting(infeasible, infeasible
                ? $"{what} and no live node can hold them{Constraint(spec.Strategy)} (live nodes: {nodes.Length}); it waits for a node that can to join"
                : $"{what} and the live nodes have no room for them now; it waits for resources to free up");
            return;
        }

        var reserved = await Task.WhenAll(plan.Select((node, k) => ReserveAsync(node, spec.Id, lost[k], spec.Bundles[lost[k]])));
        if (reserved.All(r => r))
        {
            var layout = (string[])Record.Nodes.Clone();
            for (var k = 0; k < lost.Count; k++)
            {
                layout[lost[k]] = plan[k];
            }

            await CreatedAsync(layout);
            LogReplaced(logger, spec.Id, string.Join(", ", lost.Select((i, k) => $"{i} -> {plan[k]}")), Stopwatch.GetElapsedTime(_reschedulingSince).TotalSeconds);
            return;
        }

        Record.Reason = $"a node had no room left when asked to reserve a lost bundle {Describe(spec)}; trying again";
        await Task.WhenAll(plan.Select((node, k) => (node, k)).Where(p => reserved[p.k]).Select(p => ReturnOneAsync(p.node, spec.Id, lost[p.k])));
    }

    private async Task CreatedAsync(string[] layout)
    {
        Record.Nodes = layout;
        Record.State = PlacementGroupState.Created;
        Record.Reason = null;
        Record.Infeasible = false;
        _loggedInfeasible = false;
        _retry?.Dispose();
        await WriteAsync();
        Changed();
    }

    private void Waiting(bool infeasible, string reason)
    {
        Record.Infeasible = infeasible;
        Record.Reason = reason;
        if (infeasible && !_loggedInfeasible)
        {
            _loggedInfeasible = true;
            LogInfeasible(logger, Record.Spec!.Id, reason);
        }
    }

    /// <summary>The view's nodes less those membership (or a node-death notice) says are dead: the view lags a moment.</summary>
    private async Task<NodeReport[]> LiveNodesAsync()
    {
        var nodes = await GrainFactory.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync();
        return nodes.Where(n => !IsDead(n.NodeId)).ToArray();
    }

    /// <summary>The indexes of the bundles whose node is dead.</summary>
    private List<int> LostBundles() => Enumerable.Range(0, Record.Nodes.Length).Where(i => IsDead(Record.Nodes[i])).ToList();

    private bool IsDead(string node)
    {
        if (_dead.Contains(node))
        {
            return true;
        }

        var status = membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(node));
        return status is SiloStatus.Dead or SiloStatus.None;
    }

    private bool Settled(string[]? avoid) =>
        Record.State == PlacementGroupState.Removed
        || (Record.State == PlacementGroupState.Created && (avoid is null || !Record.Nodes.Any(n => avoid.Contains(n, StringComparer.Ordinal))));

    private void Changed()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private async Task WriteAsync()
    {
        try
        {
            await stored.WriteStateAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The group goes on from memory; its next change writes the whole record again.
            LogWriteFailed(logger, Record.Spec!.Id, Record.State, e);
        }
    }

    private async Task<bool> ReserveAsync(string node, Guid group, int index, ResourceSet bundle)
    {
        try
        {
            return await GrainFactory.GetGrain<INodeGrain>(node).ReserveBundleAsync(group, index, bundle);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return false; // the node is going away; the next attempt plans without it
        }
    }

    private async Task ReturnOneAsync(string node, Guid group, int index)
    {
        try
        {
            await GrainFactory.GetGrain<INodeGrain>(node).ReturnBundleAsync(group, index);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // A node that is gone took its reservations with it.
        }
    }

    private Task ReturnAsync(IEnumerable<string> nodes) =>
        Task.WhenAll(nodes.Distinct(StringComparer.Ordinal).Where(n => !IsDead(n)).Select(async node =>
        {
            try
            {
                await GrainFactory.GetGrain<INodeGrain>(node).ReturnBundlesAsync(this.GetPrimaryKey());
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // A node that is gone took its reservations with it.
            }
        }));

    private static string Constraint(PlacementGroupStrategy strategy) => strategy switch
    {
        PlacementGroupStrategy.StrictSpread => " on a node holding none of the group's other bundles (STRICT_SPREAD)",
        PlacementGroupStrategy.StrictPack => " all on one node (STRICT_PACK)",
        _ => "",
    };

    private static string Describe(PlacementGroupSpec spec) =>
        $"({spec.Strategy}: {string.Join(", ", spec.Bundles.Select(b => b.ToString()))})";

    private PlacementGroupInfo Info()
    {
        var waiting = Record.State is PlacementGroupState.Pending or PlacementGroupState.Rescheduling;
        return new()
        {
            Id = Record.Spec!.Id, Spec = Record.Spec, State = Record.State, BundleNodes = Record.Nodes,
            PendingReason = waiting ? Record.Reason ?? (Record.State == PlacementGroupState.Pending ? "placing" : "reserving lost bundles again") : null,
            Infeasible = waiting && Record.Infeasible,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement group {Group} created on {Nodes}.")]
    private static partial void LogCreated(ILogger logger, Guid group, string nodes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement group {Group} is infeasible: {Reason}.")]
    private static partial void LogInfeasible(ILogger logger, Guid group, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement group {Group} removed.")]
    private static partial void LogRemoved(ILogger logger, Guid group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement group {Group} is rescheduling: {Reason}.")]
    private static partial void LogRescheduling(ILogger logger, Guid group, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement group {Group} created again: lost bundles re-placed ({Moves}) in {Seconds:0.00} s.")]
    private static partial void LogReplaced(ILogger logger, Guid group, string moves, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement group {Group} activated from its record ({State}).")]
    private static partial void LogResumed(ILogger logger, Guid group, PlacementGroupState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement group {Group}: writing its record ({State}) failed; it goes on from memory.")]
    private static partial void LogWriteFailed(ILogger logger, Guid group, PlacementGroupState state, Exception exception);
}
