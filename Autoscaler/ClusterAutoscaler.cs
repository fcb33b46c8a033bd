using Microsoft.Extensions.Logging;
using RayOrleans.Autoscaler.Providers;
using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>
/// One autoscaler round after another (Ray's StandardAutoscaler.update): read the cluster, stop launches that failed
/// or never joined, start what <see cref="ScalingPlanner"/> plans for the waiting demands and the standing resource
/// request, stop what <see cref="IdleNodes"/> finds idle for long enough, and publish what it did and why. The clock
/// is the caller's, so the tests drive time; nothing here sleeps.
/// </summary>
internal sealed partial class ClusterAutoscaler
{
    private readonly IAutoscalerCluster _cluster;
    private readonly INodeProvider _provider;
    private readonly AutoscalerOptions _options;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<NodeType> _types;
    private readonly Dictionary<string, NodeType> _typesByName;
    private readonly IdleNodes _idle = new();

    // Per instance: when the autoscaler first listed it (its launch time, for the launch deadline; a provider such as
    // Kubernetes does not say when a replica was asked for), whether it has ever joined, and its state for the status.
    private readonly Dictionary<string, DateTime> _firstSeen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _joined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string State, DateTime Since)> _states = new(StringComparer.Ordinal);
    private readonly HashSet<string> _keptReported = new(StringComparer.Ordinal);

    // Instances whose node is draining before it is stopped: its node id, when the drain began, and how long it had
    // been idle then (for the terminate decision's reason).
    private readonly Dictionary<string, (string NodeId, DateTime Since, TimeSpan Idle)> _draining = new(StringComparer.Ordinal);

    private readonly Queue<AutoscalerDecision> _decisions = new();
    private DateTime? _lastLaunch;
    private string _lastInfeasible = "";
    private string _lastUnfulfilled = "";
    private AutoscalerState? _lastState;

    public ClusterAutoscaler(IAutoscalerCluster cluster, INodeProvider provider, AutoscalerOptions options, ILogger<ClusterAutoscaler> logger)
    {
        options.Validate();
        _cluster = cluster;
        _provider = provider;
        _options = options;
        _logger = logger;
        _types = options.ToNodeTypes();
        _typesByName = _types.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The decisions kept, oldest first.</summary>
    public IReadOnlyList<AutoscalerDecision> Decisions => [.. _decisions];

    /// <summary>
    /// Runs one round at <paramref name="now"/>. A failure (the cluster or the provider unreachable) is recorded as an
    /// <c>error</c> decision and the round ends; the next one starts over from what it reads then.
    /// </summary>
    public async Task RunOnceAsync(DateTime now, CancellationToken cancellationToken)
    {
        try
        {
            _lastState = await RoundAsync(now, cancellationToken).ConfigureAwait(false);
            await _cluster.PublishAsync(_lastState).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogRoundFailed(_logger, e);
            var reason = $"{e.GetType().Name}: {e.Message}";
            // A provider that stays down fails every round: one decision for it, not one a second.
            if (_decisions.LastOrDefault() is not { Action: "error" } last || last.Reason != reason)
            {
                Record(now, "error", null, 0, [], reason);
            }

            if (_lastState is not null)
            {
                try
                {
                    await _cluster.PublishAsync(_lastState with { Updated = now, Decisions = [.. _decisions] }).ConfigureAwait(false);
                }
                catch (Exception publish) when (!cancellationToken.IsCancellationRequested)
                {
                    LogRoundFailed(_logger, publish);
                }
            }
        }
    }

    private async Task<AutoscalerState> RoundAsync(DateTime now, CancellationToken cancellationToken)
    {
        var status = await _cluster.GetStatusAsync().ConfigureAwait(false);
        var requests = await _cluster.GetResourceRequestsAsync().ConfigureAwait(false);
        var instances = await _provider.ListAsync(cancellationToken).ConfigureAwait(false);

        var nodeOf = new Dictionary<string, NodeReport>(StringComparer.Ordinal);
        foreach (var node in status.Nodes)
        {
            if (node.Labels.TryGetValue(AutoscalerLabels.Instance, out var instanceId))
            {
                nodeOf[instanceId] = node;
            }
        }

        Forget(instances);
        foreach (var instance in instances)
        {
            _firstSeen.TryAdd(instance.InstanceId, now);
            if (nodeOf.ContainsKey(instance.InstanceId))
            {
                _joined.Add(instance.InstanceId);
            }
        }

        // 1. Launches that failed on their own, or never joined within the deadline: stopped, and their demand plans
        //    a new node this same round (they no longer count as starting).
        var failed = new List<ProviderInstance>();
        foreach (var instance in instances.Where(i => !i.Stopping))
        {
            if (instance.Failure is { } why)
            {
                failed.Add(instance);
                Record(now, _joined.Contains(instance.InstanceId) ? "failed" : "launch-failed", instance.NodeType, 1, [instance.InstanceId], why);
            }
            else if (!_joined.Contains(instance.InstanceId) && now - _firstSeen[instance.InstanceId] > _options.LaunchTimeout)
            {
                failed.Add(instance);
                Record(now, "launch-failed", instance.NodeType, 1, [instance.InstanceId],
                    $"not in the cluster {_options.LaunchTimeout.TotalSeconds:0.#} s after its launch (LaunchTimeout): stopped");
            }
        }

        if (failed.Count > 0)
        {
            await _provider.TerminateAsync(failed, cancellationToken).ConfigureAwait(false);
        }

        var failedIds = failed.Select(f => f.InstanceId).ToHashSet(StringComparer.Ordinal);
        var live = instances.Where(i => !i.Stopping && !failedIds.Contains(i.InstanceId) && _typesByName.ContainsKey(i.NodeType)).ToList();
        var workers = CountByType(live);
        var starting = CountByType(live.Where(i => !nodeOf.ContainsKey(i.InstanceId)));
        // Draining nodes are on their way out: their room does not count for the demands (which start new nodes).
        var schedulable = status.Nodes.Any(n => n.Draining) ? status with { Nodes = status.Nodes.Where(n => !n.Draining).ToArray() } : status;

        // 2. Scale up. Ray's upscaling speed: at most max(MinConcurrentLaunches, speed x nodes) nodes starting at once.
        var concurrent = Math.Max(_options.MinConcurrentLaunches, (int)Math.Ceiling(_options.UpscalingSpeed * Math.Max(1, status.Nodes.Length)));
        var maxLaunch = Math.Max(0, concurrent - starting.Values.Sum());
        var plan = ScalingPlanner.Plan(schedulable, requests, workers, _types, maxLaunch, starting);
        foreach (var (typeName, count) in plan.Launch)
        {
            await _provider.LaunchAsync(_typesByName[typeName], count, cancellationToken).ConfigureAwait(false);
            _lastLaunch = now;
            var why = plan.Reasons.Where(r => r.StartsWith("start ", StringComparison.Ordinal) && r.Contains($" x {typeName}:", StringComparison.Ordinal));
            Record(now, "launch", typeName, count, [], string.Join("; ", why) + Waiting(status, requests));
        }

        if (plan.Launch.Count > 0)
        {
            // The new instances' clock starts now, not when the next round first lists them: the launch deadline
            // counts from the launch.
            foreach (var instance in await _provider.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                _firstSeen.TryAdd(instance.InstanceId, now);
            }
        }

        var infeasible = Describe(plan.Infeasible);
        if (infeasible != _lastInfeasible && infeasible.Length > 0)
        {
            Record(now, "infeasible", null, plan.Infeasible.Sum(d => d.Count), [], $"no node type can hold {infeasible}: reported, nothing started for it");
        }

        _lastInfeasible = infeasible;
        var unfulfilled = Describe(plan.Unfulfilled);
        if (unfulfilled != _lastUnfulfilled && unfulfilled.Length > 0)
        {
            Record(now, "unfulfilled", null, plan.Unfulfilled.Sum(d => d.Count), [],
                $"{unfulfilled} wait for room: the node types' MaxWorkers, or at most {concurrent} nodes starting at once");
        }

        _lastUnfulfilled = unfulfilled;

        // 3. Scale down: nodes idle past the timeout, not while anything waits or within the cool-down of a launch,
        //    and only while the standing request and MinWorkers still hold without them. Each is drained first
        //    (placement leaves it, its objects move), and stopped once the drain is done.
        _idle.Observe(status, now);
        var joined = live.Where(i => nodeOf.ContainsKey(i.InstanceId)).ToList();
        var joinedWorkers = joined.Where(i => !_draining.ContainsKey(i.InstanceId)).ToDictionary(i => nodeOf[i.InstanceId].NodeId, i => _typesByName[i.NodeType], StringComparer.Ordinal);
        var instanceOfNode = joined.ToDictionary(i => nodeOf[i.InstanceId].NodeId, i => i, StringComparer.Ordinal);
        var removable = plan.IsEmpty
            ? _idle.Removable(schedulable, joinedWorkers, now, _options.IdleTimeout, _lastLaunch, _options.ScaleDownCooldown)
            : [];
        var remaining = schedulable;
        var remainingWorkers = new Dictionary<string, int>(workers, StringComparer.Ordinal);
        foreach (var (id, drain) in _draining)
        {
            if (live.FirstOrDefault(i => i.InstanceId == id) is { } draining)
            {
                remainingWorkers[draining.NodeType] = remainingWorkers.GetValueOrDefault(draining.NodeType) - 1;
            }
        }

        foreach (var nodeId in removable)
        {
            var instance = instanceOfNode[nodeId];
            var without = remaining with { Nodes = remaining.Nodes.Where(n => n.NodeId != nodeId).ToArray() };
            var fewer = new Dictionary<string, int>(remainingWorkers, StringComparer.Ordinal) { [instance.NodeType] = remainingWorkers[instance.NodeType] - 1 };
            if (!ScalingPlanner.Plan(without, requests, fewer, _types, int.MaxValue, starting).IsEmpty)
            {
                // Removing it would make the next round start a node again: that is the flapping the check prevents.
                if (_keptReported.Add(instance.InstanceId))
                {
                    Record(now, "keep", instance.NodeType, 0, [instance.InstanceId], $"idle, but the standing resource request needs node {nodeId}");
                }

                continue;
            }

            remaining = without;
            remainingWorkers = fewer;
            var idleFor = now - (_idle.IdleSince(nodeId) ?? now);
            _draining[instance.InstanceId] = (nodeId, now, idleFor);
            Record(now, "drain", instance.NodeType, 1, [instance.InstanceId],
                $"node {nodeId} idle for {idleFor.TotalSeconds:0.#} s (IdleTimeout {_options.IdleTimeout.TotalSeconds:0.#} s): draining before it is stopped" +
                (nodeOf[instance.InstanceId].ObjectCount is > 0 and var objects ? $" ({objects} objects in its store to move or drop)" : ""));
        }

        var stopping = await DrainStepAsync(now, live, nodeOf).ConfigureAwait(false);
        if (stopping.Count > 0)
        {
            await _provider.TerminateAsync(stopping, cancellationToken).ConfigureAwait(false);
        }

        var stoppedNow = stopping.Select(s => s.InstanceId).Concat(failedIds).ToHashSet(StringComparer.Ordinal);
        return BuildState(now, status, requests, instances, nodeOf, stoppedNow, plan);
    }

    /// <summary>
    /// Asks each draining node how far it is: one drained is returned to be stopped; one whose drain failed (an object
    /// no node could take) or ran past <see cref="AutoscalerOptions.DrainTimeout"/> is un-drained and kept, its idle
    /// time counting again from now, with a decision saying why.
    /// </summary>
    private async Task<List<ProviderInstance>> DrainStepAsync(DateTime now, List<ProviderInstance> live, Dictionary<string, NodeReport> nodeOf)
    {
        var drains = _draining.Where(d => live.Any(i => i.InstanceId == d.Key) && nodeOf.ContainsKey(d.Key)).ToList();
        foreach (var gone in _draining.Keys.Except(drains.Select(d => d.Key)).ToList())
        {
            _draining.Remove(gone); // stopped, failed, or left the cluster on its own
        }

        // One call per draining node, all at once: a node slow to answer holds up no other.
        var answers = await Task.WhenAll(drains.Select(async d =>
        {
            try
            {
                return await _cluster.DrainAsync(d.Value.NodeId).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return new DrainStatus { Waiting = $"the node did not answer ({e.GetType().Name}: {e.Message})" };
            }
        })).ConfigureAwait(false);

        var stopping = new List<ProviderInstance>();
        for (var i = 0; i < drains.Count; i++)
        {
            var (instanceId, (nodeId, since, idle)) = drains[i];
            var instance = live.First(x => x.InstanceId == instanceId);
            var answer = answers[i];
            var objects = answer.Moved + answer.Dropped == 0 ? "" : $"; moved {answer.Moved} objects to other nodes, dropped {answer.Dropped} secondary copies";
            if (answer.Drained)
            {
                _draining.Remove(instanceId);
                stopping.Add(instance);
                Record(now, "terminate", instance.NodeType, 1, [instanceId],
                    $"node {nodeId} idle for {idle.TotalSeconds:0.#} s (IdleTimeout {_options.IdleTimeout.TotalSeconds:0.#} s), drained in {(now - since).TotalSeconds:0.#} s{objects}");
                continue;
            }

            var why = answer.Failure is { } failure ? $"its drain failed: {failure}"
                : now - since > _options.DrainTimeout ? $"not drained within {_options.DrainTimeout.TotalSeconds:0.#} s (DrainTimeout): still {answer.Waiting}"
                : null;
            if (why is null)
            {
                continue;
            }

            _draining.Remove(instanceId);
            _idle.Restart(nodeId, now);
            try
            {
                await _cluster.CancelDrainAsync(nodeId).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                why += $" (cancelling the drain failed: {e.GetType().Name}: {e.Message})";
            }

            Record(now, "drain-cancelled", instance.NodeType, 0, [instanceId], $"node {nodeId} kept: {why}{objects}");
        }

        return stopping;
    }

    private AutoscalerState BuildState(DateTime now, ClusterStatus status, ResourceSet[] requests, IReadOnlyList<ProviderInstance> instances,
        Dictionary<string, NodeReport> nodeOf, HashSet<string> stoppedNow, ScalePlan plan)
    {
        var nodes = new List<AutoscalerNode>();
        foreach (var instance in instances)
        {
            var node = nodeOf.GetValueOrDefault(instance.InstanceId);
            var state = instance.Stopping || stoppedNow.Contains(instance.InstanceId) ? "stopping"
                : node is null ? "starting"
                : _draining.ContainsKey(instance.InstanceId) ? "draining"
                : IdleNodes.IsIdle(node) ? "idle"
                : "running";
            if (!_states.TryGetValue(instance.InstanceId, out var was) || was.State != state)
            {
                _states[instance.InstanceId] = (state, now);
            }

            nodes.Add(new AutoscalerNode
            {
                InstanceId = instance.InstanceId, NodeType = instance.NodeType, NodeId = node?.NodeId, State = state, Since = _states[instance.InstanceId].Since,
            });
        }

        return new AutoscalerState
        {
            Updated = now,
            Provider = _provider.Name,
            NodeTypes = _types.Select(t => new AutoscalerNodeType
            {
                Name = t.Name, Resources = t.Resources, MinWorkers = t.MinWorkers, MaxWorkers = t.MaxWorkers,
                Running = nodes.Count(n => n.NodeType == t.Name && n.State is "running" or "idle" or "draining"),
                Starting = nodes.Count(n => n.NodeType == t.Name && n.State == "starting"),
            }).ToArray(),
            Nodes = [.. nodes.OrderBy(n => n.NodeType, StringComparer.Ordinal).ThenBy(n => n.InstanceId, StringComparer.Ordinal)],
            Infeasible = [.. plan.Infeasible],
            Unfulfilled = [.. plan.Unfulfilled],
            ResourceRequests = requests,
            Decisions = [.. _decisions],
        };
    }

    /// <summary>Drops what the autoscaler remembers of instances the provider no longer lists.</summary>
    private void Forget(IReadOnlyList<ProviderInstance> instances)
    {
        var listed = instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _firstSeen.Keys.Where(k => !listed.Contains(k)).ToList())
        {
            _firstSeen.Remove(gone);
            _joined.Remove(gone);
            _states.Remove(gone);
            _keptReported.Remove(gone);
            _draining.Remove(gone);
        }
    }

    private void Record(DateTime now, string action, string? nodeType, int count, string[] instances, string reason)
    {
        var decision = new AutoscalerDecision { Time = now, Action = action, NodeType = nodeType, Count = count, Instances = instances, Reason = reason };
        _decisions.Enqueue(decision);
        while (_decisions.Count > _options.MaxDecisions)
        {
            _decisions.Dequeue();
        }

        LogDecision(_logger, action, count, nodeType ?? "-", string.Join(",", instances), reason);
    }

    private static Dictionary<string, int> CountByType(IEnumerable<ProviderInstance> instances) =>
        instances.GroupBy(i => i.NodeType, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    private static string Describe(IEnumerable<DemandSummary> demands) =>
        string.Join("; ", demands.OrderBy(d => d.Demand.ToString(), StringComparer.Ordinal).Select(d => $"{d.Count} x {d.Demand}"));

    /// <summary>What waited when a launch was decided, for its reason.</summary>
    private static string Waiting(ClusterStatus status, ResourceSet[] requests)
    {
        var parts = new List<string>();
        if (status.Pending.Length > 0)
        {
            parts.Add($"pending {Describe(status.Pending)}");
        }

        if (status.Infeasible.Length > 0)
        {
            parts.Add($"infeasible on the live nodes {Describe(status.Infeasible)}");
        }

        if (requests.Length > 0)
        {
            parts.Add($"requested {string.Join(", ", requests.GroupBy(r => r.ToString()).Select(g => $"{g.Count()} x {g.Key}"))}");
        }

        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Autoscaler {Action} {Count} x {NodeType} [{Instances}]: {Reason}")]
    private static partial void LogDecision(ILogger logger, string action, int count, string nodeType, string instances, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An autoscaler round failed; the next round starts over.")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
