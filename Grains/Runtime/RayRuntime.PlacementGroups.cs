using System.Collections.Concurrent;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// Placement groups from the submitter's side: work scheduled into a group waits until the group is created,
/// then goes to the node holding its bundle (the node takes its resources from that bundle only).
/// </summary>
internal sealed partial class RayRuntime
{
    /// <summary>
    /// Groups seen created or removed. A created group's layout changes only when a node holding one of its
    /// bundles dies, so it is asked again only when work finds its bundle's node unreachable.
    /// </summary>
    private readonly ConcurrentDictionary<Guid, PlacementGroupInfo> _groups = new();
    private int _bundleCursor;

    /// <summary>
    /// How long past its own wait a call to a group may take before it is asked again. A group's calls answer at
    /// once (or at the end of their long poll); one that does not was sent to the group's activation on a silo
    /// that died, or through a gateway that died, and would otherwise wait out Orleans' 30 s response timeout
    /// while the group already lives on, activated elsewhere from its record.
    /// </summary>
    private static readonly TimeSpan GroupCallSlack = TimeSpan.FromSeconds(3);

    public IPlacementGroupGrain PlacementGroup(Guid id) => Grains.GetGrain<IPlacementGroupGrain>(id);

    /// <summary>The group's state now (null when no group has the id), asked again while its silo or gateway is lost.</summary>
    public Task<PlacementGroupInfo?> GroupInfoAsync(Guid id) =>
        TransientRetry.ReadAsync(() => PlacementGroup(id).GetInfoAsync().WaitAsync(GroupCallSlack));

    /// <summary>
    /// The group once it is created or removed. No deadline, as in Ray: work scheduled into a group waits for
    /// it however long placing (or re-placing lost bundles) takes. Work for <paramref name="bundle"/> (-1: any)
    /// waits again when this process found that bundle's node unreachable (for -1: every bundle's node). Throws
    /// when no group has the id.
    /// </summary>
    public Task<PlacementGroupInfo> WhenGroupSettledAsync(Guid id, int bundle = -1, CancellationToken cancellationToken = default) =>
        _groups.TryGetValue(id, out var known) && !Lost(known, bundle) ? Task.FromResult(known) : AskGroupAsync(id, bundle, cancellationToken);

    /// <summary>
    /// Asks the group until it is removed, or created with the bundle on a node this process did not find
    /// unreachable (one lost with its node is reserved elsewhere once membership declares the node dead).
    /// </summary>
    private async Task<PlacementGroupInfo> AskGroupAsync(Guid id, int bundle, CancellationToken cancellationToken)
    {
        _groups.TryGetValue(id, out var last);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Told which nodes to avoid, the group parks the call until it has moved the bundle off them.
            var avoid = last is not null && Lost(last, bundle)
                ? (bundle >= 0 && bundle < last.BundleNodes.Length ? [last.BundleNodes[bundle]] : last.BundleNodes.Distinct().ToArray())
                : null;
            if (await PollGroupAsync(id, Options.LongPollInterval, avoid, cancellationToken).ConfigureAwait(false) is not { } info)
            {
                continue;
            }

            if (info.State == PlacementGroupState.Removed || (info.State == PlacementGroupState.Created && !Lost(info, bundle)))
            {
                return _groups[id] = info;
            }

            last = info;
        }
    }

    /// <summary>
    /// One long poll of the group (<see cref="IPlacementGroupGrain.WaitAsync"/>); null when the call was lost with
    /// a silo or gateway that died (the group answers the next one from its new activation).
    /// </summary>
    public async Task<PlacementGroupInfo?> PollGroupAsync(Guid id, TimeSpan wait, string[]? avoid = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await PlacementGroup(id).WaitAsync(wait, avoid).WaitAsync(wait + GroupCallSlack, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OrleansMessageRejectionException or SiloUnavailableException)
        {
            return null;
        }
    }

    /// <summary>Whether work for <paramref name="bundle"/> of a created group finds no reachable node to go to.</summary>
    private bool Lost(PlacementGroupInfo info, int bundle) =>
        info.State == PlacementGroupState.Created && info.BundleNodes.Length > 0
        && (bundle >= 0 && bundle < info.BundleNodes.Length ? Cluster.IsUnreachable(info.BundleNodes[bundle]) : info.BundleNodes.All(Cluster.IsUnreachable));

    /// <summary>Forgets what is known of a group (it was removed from this process).</summary>
    public void ForgetGroup(Guid id, PlacementGroupInfo? removed = null)
    {
        if (removed is null)
        {
            _groups.TryRemove(id, out _);
        }
        else
        {
            _groups[id] = removed;
        }
    }

    /// <summary>
    /// The node holding the bundle a demand goes to (bundle <paramref name="index"/>, or for -1 the next of the
    /// group's bundles that could hold it); null with <paramref name="why"/> when there is none.
    /// </summary>
    public string? NodeInGroup(PlacementGroupInfo info, int index, ResourceSet demand, out string why)
    {
        why = "";
        var bundles = info.Spec.Bundles;
        if (info.State != PlacementGroupState.Created)
        {
            why = $"placement group {info.Id:N} was removed";
            return null;
        }

        if (index >= bundles.Length)
        {
            why = $"bundle index {index} is out of range: placement group {info.Id:N} has {bundles.Length} bundles";
            return null;
        }

        var fitting = index >= 0
            ? (demand.FitsIn(bundles[index]) ? [index] : [])
            : Enumerable.Range(0, bundles.Length).Where(i => demand.FitsIn(bundles[i])).ToArray();
        if (fitting.Length == 0)
        {
            why = index >= 0
                ? $"it needs {demand} but bundle {index} of placement group {info.Id:N} holds {bundles[index]} in all"
                : $"it needs {demand} but no bundle of placement group {info.Id:N} holds that much ({string.Join(", ", bundles.Select(b => b.ToString()))})";
            return null;
        }

        // Any bundle: not one whose node this process found unreachable while another is left (it is being re-placed).
        if (index < 0 && fitting.Where(i => !Cluster.IsUnreachable(info.BundleNodes[i])).ToArray() is { Length: > 0 } reachable)
        {
            fitting = reachable;
        }

        var chosen = fitting[(int)(unchecked((uint)Interlocked.Increment(ref _bundleCursor)) % (uint)fitting.Length)];
        return info.BundleNodes[chosen];
    }

    /// <summary>Sends a task scheduled into a placement group to its bundle's node, once the group is created.</summary>
    private void DispatchToGroup(TaskSpec spec, SchedulingStrategy group, int attempt)
    {
        if (_groups.TryGetValue(group.PlacementGroupId, out var known) && !Lost(known, group.BundleIndex))
        {
            SendToGroup(spec, group, known, attempt);
            return;
        }

        _ = DispatchWhenGroupSettledAsync(spec, group, attempt);
    }

    private async Task DispatchWhenGroupSettledAsync(TaskSpec spec, SchedulingStrategy group, int attempt)
    {
        PlacementGroupInfo info;
        try
        {
            info = await WhenGroupSettledAsync(group.PlacementGroupId, group.BundleIndex).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            InFlight.Finished(spec.TaskId);
            FailReturns(spec, SystemError(spec.TaskId, spec.Name, "RayOrleans.InfeasibleTask",
                $"Task '{spec.Name}' cannot run in placement group {group.PlacementGroupId:N}: {e.Message}"));
            return;
        }

        if (InFlight.AttemptOf(spec.TaskId) < 0)
        {
            return; // cancelled while it waited for its group
        }

        SendToGroup(spec, group, info, attempt);
    }

    private void SendToGroup(TaskSpec spec, SchedulingStrategy group, PlacementGroupInfo info, int attempt)
    {
        if (NodeInGroup(info, group.BundleIndex, spec.Resources, out var why) is { } node)
        {
            SendTo(spec, node, attempt);
            return;
        }

        InFlight.Finished(spec.TaskId);
        FailReturns(spec, SystemError(spec.TaskId, spec.Name, "RayOrleans.InfeasibleTask", $"Task '{spec.Name}' cannot run in its placement group: {why}."));
    }
}
