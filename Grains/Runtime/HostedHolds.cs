namespace RayOrleans.Runtime;

/// <summary>
/// The directory holds this process keeps for what it hosts rather than owns: an actor's on the refs it was built from
/// (holder <c>actor:</c>, taken by its creator, let go by its grain when it dies for good) and a handed-off task's on
/// its arguments (holder <c>handoff:</c>, taken by the owner that exited, let go by this node when the task ends). The
/// process that took them may be gone, so after a node died it is this one, where the actor or task lives, that
/// re-publishes them (<see cref="RayRuntime"/>'s RepublishAfterNodeLoss, with <see cref="OwnedObjects.Republish"/>):
/// otherwise a rebuilt shard never counts them, and frees the object when its other holders let go.
/// <para>
/// A hold's entry goes, and its release is queued, under the same lock its re-publish is queued under, so in the
/// directory queue a re-publish never follows the release it would undo. Nothing here runs per task or call: an entry
/// is made per actor created and per task handed off.
/// </para>
/// </summary>
internal sealed class HostedHolds(DirectoryPublisher directory)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _holds = new(StringComparer.Ordinal);

    /// <param name="Held">The objects the holder holds.</param>
    /// <param name="Handed">A handed-off task's returns, which <see cref="HandedTo"/> publishes when the task ends.</param>
    /// <param name="HandedTo">The node the task was handed to (this one).</param>
    private sealed record Entry(ObjectId[] Held, ObjectId[] Handed, string? HandedTo);

    /// <summary>Holds kept here (for tests and logs).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _holds.Count;
            }
        }
    }

    /// <summary>
    /// Keeps <paramref name="holder"/>'s holds on <paramref name="held"/>, taken already by another process; with
    /// <paramref name="restore"/>, re-publishes them now too (an actor restarted after its node died: the shards lost
    /// with that node may have been rebuilt before it lived again).
    /// </summary>
    /// <param name="holder">The holder's name (<see cref="Objects.ObjectHolders"/>).</param>
    /// <param name="held">The objects it holds.</param>
    /// <param name="restore">Whether to re-publish the holds now as well.</param>
    /// <param name="handed">A handed-off task's returns: re-published as handed to <paramref name="handedTo"/>, so a
    /// rebuilt record waits for that node rather than failing as ownerless.</param>
    /// <param name="handedTo">The node the task was handed to (this one).</param>
    public void Keep(string holder, IEnumerable<ObjectId> held, bool restore = false, IEnumerable<ObjectId>? handed = null, string? handedTo = null)
    {
        var entry = new Entry(held.Distinct().ToArray(), handed?.ToArray() ?? [], handedTo);
        if (entry.Held.Length == 0 && entry.Handed.Length == 0)
        {
            return;
        }

        lock (_gate)
        {
            _holds[holder] = entry;
            if (restore)
            {
                Restore(holder, entry);
            }
        }
    }

    /// <summary>
    /// Lets go of <paramref name="holder"/>'s holds on <paramref name="held"/> in the directory (kept here or not: an
    /// actor whose creation failed was never kept), and stops re-publishing them.
    /// </summary>
    public void Release(string holder, IEnumerable<ObjectId> held)
    {
        lock (_gate)
        {
            _holds.Remove(holder);
            foreach (var id in held.Distinct())
            {
                directory.RemoveRef(id, holder);
            }
        }
    }

    /// <summary>Stops re-publishing <paramref name="holder"/>'s holds from here, without letting go (its actor lives on elsewhere).</summary>
    public void Forget(string holder)
    {
        lock (_gate)
        {
            _holds.Remove(holder);
        }
    }

    /// <summary>Queues a <see cref="Messages.DirectoryOpKind.Restore"/> for every hold kept here; returns how many objects it covered.</summary>
    public int Republish()
    {
        lock (_gate)
        {
            var count = 0;
            foreach (var (holder, entry) in _holds)
            {
                count += Restore(holder, entry);
            }

            return count;
        }
    }

    private int Restore(string holder, Entry entry)
    {
        foreach (var id in entry.Held)
        {
            directory.Restore(id, holder);
        }

        foreach (var id in entry.Handed)
        {
            directory.Restore(id, holder: null, handedTo: entry.HandedTo);
        }

        return entry.Held.Length + entry.Handed.Length;
    }
}
