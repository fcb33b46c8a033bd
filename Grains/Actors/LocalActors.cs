using System.Collections.Concurrent;

namespace RayOrleans.Actors;

/// <summary>
/// The live actors of this node by id, so a caller in the same process posts to an actor's mailbox directly
/// instead of sending a grain call through Orleans (as Ray's direct actor transport skips the raylet). An actor
/// is here only while it is alive; a caller that does not find it goes through the grain.
/// </summary>
internal sealed class LocalActors
{
    private readonly ConcurrentDictionary<ActorId, ActorMailbox> _alive = new();

    public void Add(ActorId id, ActorMailbox mailbox) => _alive[id] = mailbox;

    public void Remove(ActorId id, ActorMailbox mailbox) => _alive.TryRemove(KeyValuePair.Create(id, mailbox));

    public bool TryGet(ActorId id, out ActorMailbox mailbox) => _alive.TryGetValue(id, out mailbox!);
}
