using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>
/// Every actor this node hosts, alive or on its way (PENDING_CREATION, RESTARTING), and the most recent dead
/// ones, for the state API (Ray's <c>list_actors</c>). Dead actors are kept up to a fixed count, oldest
/// dropped first, so a node that has run a million short-lived actors holds a thousand records, not a million.
/// </summary>
internal sealed class ActorTable
{
    private const int KeptDead = 1000;

    private readonly ConcurrentDictionary<ActorId, Func<ActorInfo>> _hosted = new();
    private readonly ConcurrentQueue<ActorInfo> _dead = new();

    /// <summary>An actor activation here describes itself with <paramref name="describe"/> until it dies.</summary>
    public void Hosted(ActorId id, Func<ActorInfo> describe) => _hosted[id] = describe;

    /// <summary>The actor died here; <paramref name="final"/> is its last description.</summary>
    public void Died(ActorId id, ActorInfo final)
    {
        _hosted.TryRemove(id, out _);
        _dead.Enqueue(final);
        while (_dead.Count > KeptDead && _dead.TryDequeue(out _))
        {
        }
    }

    /// <summary>The hosted actors, then the dead ones newest first.</summary>
    public IEnumerable<ActorInfo> List()
    {
        foreach (var describe in _hosted.Values)
        {
            yield return describe();
        }

        foreach (var dead in _dead.Reverse())
        {
            yield return dead;
        }
    }
}
