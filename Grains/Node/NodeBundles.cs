using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>
/// The placement-group bundles reserved on this node. Each bundle takes its resources out of the node's and
/// becomes a pool of its own (a <see cref="NodeResources"/> with the bundle's amounts and GPU ids): work
/// scheduled into the bundle acquires from that pool only. A returned bundle's pool is closed (waiting work
/// fails) and its resources go back to the node once the work running in it has released them.
/// </summary>
internal sealed class NodeBundles(NodeResources node)
{
    private readonly ConcurrentDictionary<(Guid Group, int Index), Bundle> _bundles = new();
    private readonly ConcurrentDictionary<ActorId, Guid> _actors = new();

    /// <summary>How many bundles are reserved here.</summary>
    public int Count => _bundles.Count;

    /// <summary>The placement groups with a bundle reserved here.</summary>
    public Guid[] Groups => _bundles.Keys.Select(k => k.Group).Distinct().ToArray();

    /// <summary>Reserves a bundle if the node has room now; true when it is (or already was) reserved.</summary>
    public bool Reserve(Guid group, int index, ResourceSet demand)
    {
        lock (_bundles)
        {
            if (_bundles.ContainsKey((group, index)))
            {
                return true;
            }

            var holder = Guid.NewGuid();
            if (!node.TryAcquireAhead(demand, holder))
            {
                return false;
            }

            _bundles[(group, index)] = new Bundle(group, index, demand, holder, new NodeResources(demand, node.GpuIdsOf(holder)));
            return true;
        }
    }

    /// <summary>
    /// The pool a demand scheduled into bundle <paramref name="index"/> of <paramref name="group"/> takes from
    /// (index -1: whichever of the group's bundles here has room now, else one that could ever hold it); null
    /// with <paramref name="why"/> when there is none here.
    /// </summary>
    public NodeResources? PoolFor(Guid group, int index, ResourceSet demand, string nodeId, out string why)
    {
        why = "";
        var candidates = index >= 0
            ? (_bundles.TryGetValue((group, index), out var one) ? [one] : Array.Empty<Bundle>())
            : _bundles.Values.Where(b => b.Group == group).OrderBy(b => b.Index).ToArray();
        if (candidates.Length == 0)
        {
            why = $"node {nodeId} holds no {(index >= 0 ? $"bundle {index}" : "bundle")} of placement group {group:N} (the group was removed, or is not placed here)";
            return null;
        }

        var feasible = candidates.Where(b => b.Pool.IsFeasible(demand)).ToArray();
        if (feasible.Length == 0)
        {
            why = $"it needs {demand} but {(index >= 0 ? $"bundle {index}" : "each bundle")} of placement group {group:N} holds {candidates[0].Demand} in all";
            return null;
        }

        return (feasible.FirstOrDefault(b => b.Pool.CanAcquireNow(demand)) ?? feasible[0]).Pool;
    }

    /// <summary>An actor living in one of <paramref name="group"/>'s bundles here: it is killed when the group goes.</summary>
    public void AddActor(ActorId actor, Guid group) => _actors[actor] = group;

    public void RemoveActor(ActorId actor) => _actors.TryRemove(actor, out _);

    /// <summary>
    /// Gives back every bundle of <paramref name="group"/> held here; returns the actors living in them, for
    /// the caller to kill. Work waiting in them fails; running work keeps its resources until it ends.
    /// </summary>
    public ActorId[] Return(Guid group)
    {
        List<Bundle> returned;
        lock (_bundles)
        {
            returned = _bundles.Values.Where(b => b.Group == group).ToList();
            foreach (var bundle in returned)
            {
                _bundles.TryRemove((bundle.Group, bundle.Index), out _);
            }
        }

        foreach (var bundle in returned)
        {
            bundle.Pool.Close($"Placement group {group:N} was removed.", () => node.Release(bundle.Demand, bundle.Holder));
        }

        var actors = _actors.Where(a => a.Value == group).Select(a => a.Key).ToArray();
        foreach (var actor in actors)
        {
            _actors.TryRemove(actor, out _);
        }

        return actors;
    }

    /// <summary>
    /// Gives back one bundle, just reserved by a re-placement that did not complete: no work was sent to it yet,
    /// so its actors are not looked for. False when it was not held here.
    /// </summary>
    public bool Return(Guid group, int index)
    {
        Bundle? bundle;
        lock (_bundles)
        {
            if (!_bundles.TryRemove((group, index), out bundle))
            {
                return false;
            }
        }

        bundle.Pool.Close($"Bundle {index} of placement group {group:N} was given back.", () => node.Release(bundle.Demand, bundle.Holder));
        return true;
    }

    private sealed record Bundle(Guid Group, int Index, ResourceSet Demand, Guid Holder, NodeResources Pool);
}
