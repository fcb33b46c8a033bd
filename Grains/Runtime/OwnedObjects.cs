using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// The objects this process owns (Ray's owner-side in-memory store): the results of the tasks and actor
/// calls it submitted, and its puts. A result arrives in the reply to the call that ran it, so a get by the
/// owner costs no grain call. The object directory hears of an owned object only when a ref to it leaves
/// this process inside a value (it "escapes"): then the owner publishes it there, at once if it is ready,
/// else when it becomes ready. A ref passed as a task argument does not escape: the owner waits for it and
/// sends its value (or location) with the task, as Ray's owner resolves its own dependencies.
/// </summary>
internal sealed class OwnedObjects
{
    private readonly ConcurrentDictionary<ObjectId, Entry> _entries = new();
    private readonly Action<ObjectId, ObjectValue> _publish;

    /// <param name="publish">Publishes an escaped object to the directory (fire and forget; it retries itself).</param>
    public OwnedObjects(Action<ObjectId, ObjectValue> publish) => _publish = publish;

    public int Count => _entries.Count;

    /// <summary>Registers an object this process will receive (a return of a task or call it submits).</summary>
    public void AddPending(ObjectId id) => _entries.TryAdd(id, new Entry());

    /// <summary>Registers an object that is ready now (a put).</summary>
    public void AddReady(ObjectId id, ObjectValue value) => _entries.TryAdd(id, new Entry { Value = value });

    public bool Owns(ObjectId id) => _entries.ContainsKey(id);

    /// <summary>Forgets an owned object; returns its value when it was ready.</summary>
    public ObjectValue? Remove(ObjectId id) => _entries.TryRemove(id, out var entry) ? Volatile.Read(ref entry.Value) : null;

    /// <summary>The value when the object is owned here and ready.</summary>
    public bool TryGetReady(ObjectId id, out ObjectValue value)
    {
        if (_entries.TryGetValue(id, out var entry) && Volatile.Read(ref entry.Value) is { } ready)
        {
            value = ready;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>Completes when the owned object is ready; null when this process does not own it.</summary>
    public Task<ObjectValue>? WhenReady(ObjectId id)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return null;
        }

        if (Volatile.Read(ref entry.Value) is { } ready)
        {
            return Task.FromResult(ready);
        }

        lock (entry)
        {
            if (entry.Value is { } value)
            {
                return Task.FromResult(value);
            }

            // Continuations run inline with the reply that completes it (a thread-pool thread, never a grain's
            // scheduler): one thread hop less on every get of a result.
            entry.Waiters ??= new TaskCompletionSource<ObjectValue>();
            return entry.Waiters.Task;
        }
    }

    /// <summary>
    /// Sets an owned object's value (its task's reply, or its failure); the first value wins, as objects are
    /// immutable. Publishes it when a ref to it has escaped. False when the object is not owned here.
    /// </summary>
    public bool Complete(ObjectId id, ObjectValue value)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return false;
        }

        TaskCompletionSource<ObjectValue>? waiters;
        bool publish;
        lock (entry)
        {
            if (entry.Value is not null)
            {
                return true;
            }

            Volatile.Write(ref entry.Value, value);
            waiters = entry.Waiters;
            entry.Waiters = null;
            publish = entry.Escaped;
        }

        waiters?.TrySetResult(value);
        if (publish)
        {
            _publish(id, value);
        }

        return true;
    }

    /// <summary>
    /// A ref to <paramref name="id"/> is leaving this process inside a value: make the object readable from
    /// the directory (now if ready, else when it is). Objects not owned here are already there.
    /// </summary>
    public void Escape(ObjectId id)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return;
        }

        ObjectValue? ready;
        lock (entry)
        {
            if (entry.Escaped)
            {
                return;
            }

            entry.Escaped = true;
            ready = entry.Value;
        }

        if (ready is not null)
        {
            _publish(id, ready);
        }
    }

    private sealed class Entry
    {
        public ObjectValue? Value;
        public TaskCompletionSource<ObjectValue>? Waiters;
        public bool Escaped;
    }
}
