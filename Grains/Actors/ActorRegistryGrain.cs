using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Actors;

/// <summary>
/// Named actors of one namespace. The names live in this activation's memory; when its silo dies, the new
/// activation asks every node for the named actors of the namespace alive there (each node knows its own),
/// so names of actors that outlived the registry's silo are found again; an actor restarted elsewhere
/// registers its name again when it is built.
/// Placed off draining nodes; a drain migrates it with its names (the scan would find them again, but only those of
/// actors alive on reachable nodes).
/// </summary>
[KeepAlive, ClusterStatePlacement]
internal sealed class ActorRegistryGrain(NodeRuntime node, ClusterStateActivations stateGrains) : Grain, IActorRegistryGrain, IGrainMigrationParticipant
{
    private static readonly TimeSpan AskLimit = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, (ActorId Actor, string ClassName)> _names = new(StringComparer.Ordinal);

    private long _lastScan;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        stateGrains.Add(GrainContext);
        return ScanAsync(cancellationToken);
    }

    public void OnDehydrate(IDehydrationContext context) =>
        context.TryAddValue("names", _names.Select(n => new NamedActor(n.Key, n.Value.Actor, n.Value.ClassName)).ToArray());

    public void OnRehydrate(IRehydrationContext context)
    {
        if (context.TryGetValue("names", out NamedActor[]? names) && names is not null)
        {
            foreach (var named in names)
            {
                _names[named.Name] = (named.Actor, named.ClassName);
            }
        }
    }

    /// <summary>
    /// Asks every node for the named actors of this namespace alive there and adds those missing. On
    /// activation, and again on a lookup that misses (at most every 2 s), so a node unreachable during the
    /// first scan, or an actor whose name was lost in between, is found on the next ask.
    /// </summary>
    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        _lastScan = Environment.TickCount64;
        var asks = node.Cluster.Reported.Select(async n =>
        {
            try
            {
                return await node.Runtime.Node(n.NodeId).NamedActorsAsync(this.GetPrimaryKeyString()).WaitAsync(AskLimit, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return []; // unreachable (dying): its actors are being lost or restarted, and re-register
            }
        });
        foreach (var named in (await Task.WhenAll(asks)).SelectMany(n => n))
        {
            _names.TryAdd(named.Name, (named.Actor, named.ClassName));
        }
    }

    public async Task<bool> TryRegisterAsync(string name, ActorId actor, string className)
    {
        if (_names.TryGetValue(name, out var existing) && existing.Actor != actor)
        {
            // A name held by a dead actor is free again, as in Ray.
            var info = await GrainFactory.GetGrain<IActorGrain>(existing.Actor.Value).GetInfoAsync();
            if (info.State != "DEAD")
            {
                return false;
            }
        }

        _names[name] = (actor, className);
        return true;
    }

    public async Task<(ActorId Actor, string ClassName)?> LookupAsync(string name)
    {
        if (!_names.ContainsKey(name) && Environment.TickCount64 - _lastScan > 2_000)
        {
            await ScanAsync(CancellationToken.None);
        }

        return _names.TryGetValue(name, out var entry) ? entry : null;
    }

    public Task UnregisterAsync(string name, ActorId actor)
    {
        if (_names.TryGetValue(name, out var entry) && entry.Actor == actor)
        {
            _names.Remove(name);
        }

        return Task.CompletedTask;
    }
}
