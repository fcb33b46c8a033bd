using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;

namespace RayOrleans.Placement;

/// <summary>
/// One placement group. It lays the bundles over nodes from the cluster view (<see cref="BundlePlanner"/>),
/// asks each chosen node to reserve its bundle, and keeps the result only if every node said yes; otherwise
/// it gives back what was reserved and tries again twice a second, so a group is never half placed. A group
/// no set of nodes could ever hold waits too (logged once), until nodes that can join.
/// Placed off draining nodes; a drain migrates it with its spec, state and nodes (the bundles stay reserved on them).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed partial class PlacementGroupGrain(ClusterStateActivations stateGrains, ILogger<PlacementGroupGrain> logger)
    : Grain, IPlacementGroupGrain, IGrainMigrationParticipant
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RemovedKeptFor = TimeSpan.FromMinutes(1);

    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PlacementGroupSpec? _spec;
    private PlacementGroupState _state;
    private string[] _nodes = [];
    private string? _reason;
    private bool _infeasible;
    private bool _loggedInfeasible;
    private IGrainTimer? _retry;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        if (_spec is null)
        {
            return Task.CompletedTask;
        }

        // Migrated: carry on where the old activation was.
        if (_state == PlacementGroupState.Pending)
        {
            _retry = this.RegisterGrainTimer(TryPlaceAsync, RetryInterval, RetryInterval);
        }
        else
        {
            _settled.TrySetResult();
            if (_state == PlacementGroupState.Removed)
            {
                this.RegisterGrainTimer(() =>
                {
                    DeactivateOnIdle();
                    return Task.CompletedTask;
                }, RemovedKeptFor, RemovedKeptFor);
            }
        }

        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext context)
    {
        if (_spec is null)
        {
            return;
        }

        context.TryAddValue("spec", _spec);
        context.TryAddValue("state", _state);
        context.TryAddValue("nodes", _nodes);
        context.TryAddValue("reason", _reason);
        context.TryAddValue("infeasible", _infeasible);
    }

    public void OnRehydrate(IRehydrationContext context)
    {
        if (!context.TryGetValue("spec", out PlacementGroupSpec? spec) || spec is null)
        {
            return;
        }

        _spec = spec;
        _state = context.TryGetValue("state", out PlacementGroupState state) ? state : PlacementGroupState.Pending;
        _nodes = context.TryGetValue("nodes", out string[]? nodes) && nodes is not null ? nodes : [];
        _reason = context.TryGetValue("reason", out string? reason) ? reason : null;
        _infeasible = context.TryGetValue("infeasible", out bool infeasible) && infeasible;
        _loggedInfeasible = _infeasible;
    }

    public async Task<PlacementGroupInfo> CreateAsync(PlacementGroupSpec spec)
    {
        if (_spec is not null)
        {
            return Info();
        }

        if (spec.Name is { } name && !await GrainFactory.GetGrain<IPlacementGroupRegistryGrain>(spec.Namespace).TryRegisterAsync(name, spec.Id))
        {
            throw new ArgumentException($"A placement group named '{name}' already exists in namespace '{spec.Namespace}'.");
        }

        _spec = spec;
        _state = PlacementGroupState.Pending;
        // The retry timer first, so a first attempt that throws (the view grain moving) is tried again.
        _retry = this.RegisterGrainTimer(TryPlaceAsync, RetryInterval, RetryInterval);
        try
        {
            await TryPlaceAsync();
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            _reason = $"placing failed ({e.Message}); trying again";
        }

        return Info();
    }

    public async Task<PlacementGroupInfo> WaitAsync(TimeSpan maxWait)
    {
        if (_spec is null)
        {
            throw new InvalidOperationException($"No placement group has id {this.GetPrimaryKey():N}.");
        }

        try
        {
            await _settled.Task.WaitAsync(maxWait);
        }
        catch (TimeoutException)
        {
        }

        return Info();
    }

    public Task<PlacementGroupInfo?> GetInfoAsync() => Task.FromResult(_spec is null ? null : Info());

    public async Task RemoveAsync()
    {
        if (_spec is null || _state == PlacementGroupState.Removed)
        {
            return;
        }

        _state = PlacementGroupState.Removed;
        _retry?.Dispose();
        _settled.TrySetResult();
        LogRemoved(logger, _spec.Id);
        await ReturnAsync(_nodes);
        _nodes = [];

        // Kept a minute so its state can still be read as removed, then let go (groups come and go by the thousand).
        this.RegisterGrainTimer(() =>
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }, RemovedKeptFor, RemovedKeptFor);
        if (_spec.Name is { } name)
        {
            await GrainFactory.GetGrain<IPlacementGroupRegistryGrain>(_spec.Namespace).UnregisterAsync(name, _spec.Id);
        }
    }

    /// <summary>One all-or-nothing attempt: plan from the view, reserve everywhere, keep it or give it all back.</summary>
    private async Task TryPlaceAsync()
    {
        if (_spec is not { } spec || _state != PlacementGroupState.Pending)
        {
            return;
        }

        var nodes = await GrainFactory.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync();
        var plan = BundlePlanner.Plan(spec.Strategy, spec.Bundles, nodes.Select(n => (n.NodeId, n.Available)).ToArray());
        if (plan is null)
        {
            _infeasible = BundlePlanner.Plan(spec.Strategy, spec.Bundles, nodes.Select(n => (n.NodeId, n.Total)).ToArray()) is null;
            _reason = _infeasible
                ? $"no set of the cluster's {nodes.Length} node(s) can ever hold it {Describe(spec)}; it waits for nodes that can to join (largest node: {nodes.OrderByDescending(n => n.Total[ResourceSet.Cpu]).FirstOrDefault()?.Total.ToString() ?? "none"})"
                : $"the nodes have no room for it {Describe(spec)} now; it waits for resources to free up";
            if (_infeasible && !_loggedInfeasible)
            {
                _loggedInfeasible = true;
                LogInfeasible(logger, spec.Id, _reason);
            }

            return;
        }

        var reserved = await Task.WhenAll(plan.Select((node, i) => ReserveAsync(node, spec.Id, i, spec.Bundles[i])));
        if (reserved.All(r => r))
        {
            _nodes = plan;
            _state = PlacementGroupState.Created;
            _reason = null;
            _infeasible = false;
            _retry?.Dispose();
            _settled.TrySetResult();
            LogCreated(logger, spec.Id, string.Join(", ", plan));
            return;
        }

        // Another demand took the room between the view and the reservation: nothing is kept.
        _reason = $"a node had no room left when asked to reserve a bundle {Describe(spec)}; trying again";
        await ReturnAsync(plan);
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

    private Task ReturnAsync(IEnumerable<string> nodes) =>
        Task.WhenAll(nodes.Distinct(StringComparer.Ordinal).Select(async node =>
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

    private static string Describe(PlacementGroupSpec spec) =>
        $"({spec.Strategy}: {string.Join(", ", spec.Bundles.Select(b => b.ToString()))})";

    private PlacementGroupInfo Info() => new()
    {
        Id = _spec!.Id, Spec = _spec, State = _state, BundleNodes = _nodes,
        PendingReason = _state == PlacementGroupState.Pending ? _reason ?? "placing" : null,
        Infeasible = _state == PlacementGroupState.Pending && _infeasible,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement group {Group} created on {Nodes}.")]
    private static partial void LogCreated(ILogger logger, Guid group, string nodes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement group {Group} is infeasible: {Reason}.")]
    private static partial void LogInfeasible(ILogger logger, Guid group, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement group {Group} removed.")]
    private static partial void LogRemoved(ILogger logger, Guid group);
}
