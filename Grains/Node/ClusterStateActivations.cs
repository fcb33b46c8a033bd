using Orleans.Runtime.Placement;

namespace RayOrleans.Node;

/// <summary>
/// The activations on this silo of the grains that keep cluster state in memory (directory shards, registries,
/// placement groups), so a drain can migrate them off the node, with their state, before the node is removed.
/// <para>
/// Each such grain adds itself when it activates and leaves when its <see cref="IGrainContext.Deactivated"/> task
/// completes, which is after a migration has handed its state to the new silo: so "none left here" means every one
/// of them lives on elsewhere. A list kept by the grains themselves rather than asking <c>IManagementGrain</c>: it is
/// exact and local (no cluster-wide fan-out, no statistics snapshot that lags), and costs one dictionary entry per
/// activation of these few, long-lived grains; the task and actor paths never touch it.
/// </para>
/// </summary>
internal sealed class ClusterStateActivations
{
    private readonly Lock _gate = new();
    private readonly Dictionary<GrainId, Entry> _live = new();

    private sealed record Entry(IGrainContext Context, Action? OnMigrating);

    /// <summary>How many such activations live on this silo.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>
    /// Adds an activation (from its <c>OnActivateAsync</c>). <paramref name="onMigrating"/> runs on the grain's
    /// scheduler when a migration is asked for, before it starts: a grain whose requests park (a directory shard's
    /// long polls) releases them there, since the migration waits until no request runs.
    /// </summary>
    public void Add(IGrainContext context, Action? onMigrating = null)
    {
        var entry = new Entry(context, onMigrating);
        lock (_gate)
        {
            _live[context.GrainId] = entry;
        }

        context.Deactivated.ContinueWith(_ => Remove(entry), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Asks every activation here to migrate to one of <paramref name="targets"/> (spread at random). Asking again is
    /// harmless (an activation already leaving ignores it), so a drain asks on every poll and catches activations
    /// placed here before every view saw the node draining.
    /// </summary>
    public int MigrateAll(IReadOnlyList<SiloAddress> targets)
    {
        Entry[] entries;
        lock (_gate)
        {
            entries = [.. _live.Values];
        }

        foreach (var entry in entries)
        {
            var target = targets[Random.Shared.Next(targets.Count)];
            // On the grain's own scheduler: the release touches the grain's state, which only its turns may.
            entry.Context.Scheduler.QueueAction(() =>
            {
                entry.OnMigrating?.Invoke();
                entry.Context.Migrate(new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = target });
            });
        }

        return entries.Length;
    }

    private void Remove(Entry entry)
    {
        lock (_gate)
        {
            if (_live.TryGetValue(entry.Context.GrainId, out var now) && ReferenceEquals(now, entry))
            {
                _live.Remove(entry.Context.GrainId);
            }
        }
    }
}
