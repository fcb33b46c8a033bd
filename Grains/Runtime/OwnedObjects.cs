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
/// <para>
/// Each owned object counts its local references: the <c>ObjectRef</c> instances of this process (their
/// finalizers queue a release, drained off the finalizer thread) and the tasks in flight that take it as an
/// argument. When the count reaches zero the object is freed (its entry, and its copy in a node's store),
/// unless a ref to it escaped: those are kept, since borrowers elsewhere are not counted yet.
/// </para>
/// </summary>
internal sealed class OwnedObjects
{
    private readonly ConcurrentDictionary<ObjectId, Entry> _entries = new();
    private readonly ConcurrentQueue<ObjectId> _released = new();
    private readonly Action<ObjectId, ObjectValue> _publish;
    private readonly Action<ObjectId, ObjectValue> _free;

    /// <param name="publish">Publishes an escaped object to the directory (fire and forget; it retries itself).</param>
    /// <param name="free">Frees the stored copy of an object whose last reference went.</param>
    public OwnedObjects(Action<ObjectId, ObjectValue> publish, Action<ObjectId, ObjectValue> free)
    {
        _publish = publish;
        _free = free;
    }

    public int Count => _entries.Count;

    /// <summary>
    /// Counts one more local reference (a new <c>ObjectRef</c>, or a task in flight with it as an argument);
    /// false when nothing is counted: this process does not own the object, or a ref to it escaped.
    /// </summary>
    public bool AddRef(ObjectId id)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return false;
        }

        lock (entry)
        {
            if (entry.Freed || entry.Escaped)
            {
                return false; // an escaped object is kept regardless: counting it would only cost a finalizer
            }

            entry.Refs++;
            return true;
        }
    }

    /// <summary>Queues the release of one reference; safe on the finalizer thread (it only queues work).</summary>
    public void ReleaseLater(ObjectId id)
    {
        _released.Enqueue(id);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static owned => owned.DrainInBackground(), this, preferLocal: false);
        }
    }

    private int _draining;

    private void DrainInBackground()
    {
        do
        {
            DrainReleases();
            Volatile.Write(ref _draining, 0);
        }
        while (!_released.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0);
    }

    /// <summary>Drops one reference now, freeing the object when it was the last and no ref to it escaped.</summary>
    public void Release(ObjectId id)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return;
        }

        ObjectValue? freed = null;
        TaskCompletionSource<ObjectValue>? waiters;
        lock (entry)
        {
            if (--entry.Refs > 0 || entry.Escaped || entry.Freed)
            {
                return;
            }

            entry.Freed = true;
            freed = entry.Value;
            waiters = entry.Waiters;
            entry.Waiters = null;
        }

        _entries.TryRemove(KeyValuePair.Create(id, entry));
        // No ref is left to wait with; should an internal waiter remain, it must not wait forever.
        waiters?.TrySetResult(new ObjectValue
        {
            Error = new RayErrorInfo
            {
                Kind = RayErrorKind.ObjectLost, ExceptionType = typeof(ObjectLostException).FullName!, TaskId = id.TaskId, TaskName = "(freed object)",
                Message = $"Object {id} was freed: every reference to it was dropped.",
            },
        });
        if (freed is not null)
        {
            _free(id, freed);
        }
    }

    /// <summary>Applies the releases queued by finalizers; never throws (it runs on the thread pool).</summary>
    public void DrainReleases()
    {
        while (_released.TryDequeue(out var id))
        {
            if (Volatile.Read(ref _stopped))
            {
                continue; // the runtime stopped: its objects went with it
            }

            try
            {
                Release(id);
            }
            catch (Exception)
            {
                // Freeing is best effort: a node that is gone took the copy with it.
            }
        }
    }

    /// <summary>The runtime is stopping: releases from collected refs are dropped from now on.</summary>
    public void Stop() => Volatile.Write(ref _stopped, true);

    private bool _stopped;

    /// <summary>Whether finalizers queued releases not yet applied.</summary>
    public bool HasReleases => !_released.IsEmpty;

    /// <summary>Registers an object this process will receive (a return of a task or call it submits).</summary>
    public void AddPending(ObjectId id) => _entries.TryAdd(id, new Entry());

    /// <summary>Registers an object that is ready now (a put).</summary>
    public void AddReady(ObjectId id, ObjectValue value) => _entries.TryAdd(id, new Entry { Value = value });

    public bool Owns(ObjectId id) => _entries.ContainsKey(id);

    /// <summary>Forgets an owned object; returns its value when it was ready.</summary>
    public ObjectValue? Remove(ObjectId id)
    {
        if (!_entries.TryRemove(id, out var entry))
        {
            return null;
        }

        lock (entry)
        {
            entry.Freed = true;
            return entry.Value;
        }
    }

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
            if (entry.Freed)
            {
                return false; // every ref went before the result came: the caller frees the value
            }

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
        public bool Freed;
        public int Refs;
    }
}
