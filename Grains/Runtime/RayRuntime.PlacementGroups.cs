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
    /// <summary>Groups seen created or removed; a created group's layout does not change, so it is asked once.</summary>
    private readonly ConcurrentDictionary<Guid, PlacementGroupInfo> _groups = new();
    private int _bundleCursor;

    public IPlacementGroupGrain PlacementGroup(Guid id) => Grains.GetGrain<IPlacementGroupGrain>(id);

    /// <summary>
    /// The group once it is created or removed. No deadline, as in Ray: work scheduled into a group waits for
    /// it however long placing takes. Throws when no group has the id.
    /// </summary>
    public async Task<PlacementGroupInfo> WhenGroupSettledAsync(Guid id, CancellationToken cancellationToken = default)
    {
        if (_groups.TryGetValue(id, out var known))
        {
            return known;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var info = await PlacementGroup(id).WaitAsync(Options.LongPollInterval).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (info.State != PlacementGroupState.Pending)
            {
                return _groups[id] = info;
            }
        }
    }

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

        var chosen = fitting[(int)(unchecked((uint)Interlocked.Increment(ref _bundleCursor)) % (uint)fitting.Length)];
        return info.BundleNodes[chosen];
    }

    /// <summary>Sends a task scheduled into a placement group to its bundle's node, once the group is created.</summary>
    private void DispatchToGroup(TaskSpec spec, SchedulingStrategy group, int attempt)
    {
        if (_groups.TryGetValue(group.PlacementGroupId, out var known))
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
            info = await WhenGroupSettledAsync(group.PlacementGroupId).ConfigureAwait(false);
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
