using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>
/// The live actors of this node by id, so a caller in the same process posts to an actor's mailbox directly
/// instead of sending a grain call through Orleans (as Ray's direct actor transport skips the raylet). An actor
/// is here only while it is alive; a caller that does not find it goes through the grain.
/// </summary>
internal sealed class LocalActors
{
    private readonly ConcurrentDictionary<ActorId, ActorMailbox> _alive = new();
    private readonly ConcurrentDictionary<ActorId, (string Namespace, NamedActor Named)> _named = new();

    public void Add(ActorId id, ActorMailbox mailbox) => _alive[id] = mailbox;

    /// <summary>Records that a live actor here holds a name, for a registry that lost its names.</summary>
    public void AddName(ActorId id, string @namespace, string name, string className) => _named[id] = (@namespace, new NamedActor(name, id, className));

    public void Remove(ActorId id, ActorMailbox mailbox)
    {
        if (_alive.TryRemove(KeyValuePair.Create(id, mailbox)))
        {
            _named.TryRemove(id, out _);
        }
    }

    /// <summary>The named actors of <paramref name="namespace"/> alive here.</summary>
    public NamedActor[] NamedIn(string @namespace) =>
        _named.Values.Where(n => n.Namespace == @namespace && _alive.ContainsKey(n.Named.Actor)).Select(n => n.Named).ToArray();

    public bool TryGet(ActorId id, out ActorMailbox mailbox) => _alive.TryGetValue(id, out mailbox!);

    /// <summary>Every live actor's mailbox (the state API lists their calls).</summary>
    public IEnumerable<KeyValuePair<ActorId, ActorMailbox>> All => _alive;
}
