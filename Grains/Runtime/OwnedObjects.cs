using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>
/// The objects this process owns (Ray's owner-side in-memory store): the results of the tasks and actor
/// calls it submitted, and its puts; and the local count of refs it holds to objects others own. A result
/// arrives in the reply to the call that ran it, so a get by the owner costs no grain call. The object
/// directory hears of an owned object only when a ref to it leaves this process inside a value (it
/// "escapes"): then the owner publishes it there, at once if it is ready, else when it becomes ready. A ref
/// passed as a task argument does not escape: the owner waits for it and sends its value (or location) with
/// the task, as Ray's owner resolves its own dependencies.
/// <para>
/// Each object counts its local references: the <c>ObjectRef</c> instances of this process (their
/// finalizers queue a release, drained off the finalizer thread) and the tasks in flight that take it as an
/// argument. When an owned object that never escaped reaches zero, it is freed here (its entry, and its
/// copy in a node's store). Once it escaped, the directory counts it instead: this process is one holder
/// there (one reference for all its local ones, added when it escapes, removed when the local count reaches
/// zero), beside the other processes that borrowed it, the objects that contain it and the actors built from
/// it; the directory frees it when the last holder goes. A ref to an object owned elsewhere ("borrowed")
/// is counted the same way: the first local ref adds this process as a holder, the last one removes it.
/// </para>
/// </summary>
internal sealed class OwnedObjects
{
    /// <summary>How a reader goes on after TryRebuild.</summary>
    public enum RebuildOutcome
    {
        /// <summary>The object is (being) made again: wait for it as for any pending object, then read it.</summary>
        Started,
        /// <summary>It cannot be made again; the reason says why.</summary>
        Impossible,
    }

    private readonly ConcurrentDictionary<ObjectId, Entry> _entries = new();
    private readonly ConcurrentDictionary<ObjectId, Borrow> _borrowed = new();
    private readonly ConcurrentQueue<ObjectId> _released = new();
    private readonly DirectoryPublisher _directory;
    private readonly string _holder;
    private readonly string _runtimeId;
    private readonly Action<ObjectId, ObjectValue> _free;
    private readonly Func<Grains.IObjectOwner?> _ownerReference;

    /// <param name="directory">Sends reference changes and publishes to the directory, in order.</param>
    /// <param name="runtimeId">This runtime's id: its holder name in the directory.</param>
    /// <param name="free">Frees an owned object whose last reference went here (its copy, and the refs its value holds).</param>
    /// <param name="ownerReference">How the directory reaches this runtime (null where it cannot).</param>
    public OwnedObjects(DirectoryPublisher directory, string runtimeId, Action<ObjectId, ObjectValue> free, Func<Grains.IObjectOwner?> ownerReference)
    {
        _directory = directory;
        _runtimeId = runtimeId;
        _holder = Objects.ObjectHolders.Process(runtimeId);
        _free = free;
        _ownerReference = ownerReference;
    }

    /// <summary>The owned entry of <paramref name="id"/> in the table; null when it has none.</summary>
    public Entry? Find(ObjectId id) => _entries.TryGetValue(id, out var entry) ? entry : null;

    /// <summary>Owned objects with an entry here.</summary>
    public int Count => _entries.Count;

    /// <summary>Objects owned elsewhere that this process holds refs to.</summary>
    public int BorrowedCount => _borrowed.Count;

    /// <summary>
    /// Counts borrowed refs whose holder registration went into the directory queue on this thread; a reader
    /// that saw it grow flushes the queue before the refs can travel on (see <see cref="RayRuntime.Deserialize"/>).
    /// </summary>
    [ThreadStatic]
    public static int NewBorrows;

    /// <summary>
    /// Counts one more local reference (a new <c>ObjectRef</c>, or a task in flight with it as an argument or
    /// inside one): on the owned entry, or as a borrowed ref when another process owns the object. The first
    /// borrowed ref adds this process as a holder in the directory.
    /// </summary>
    public void AddRef(ObjectId id)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                if (!entry.Freed && !entry.Dropped)
                {
                    entry.Refs++;
                    return;
                }
            }
        }

        AddBorrowedRef(id);
    }

    /// <summary>Counts one more local ref to an object owned elsewhere; the first one adds this process as a holder in the directory.</summary>
    private void AddBorrowedRef(ObjectId id)
    {
        while (true)
        {
            var borrow = _borrowed.GetOrAdd(id, static _ => new Borrow());
            lock (borrow)
            {
                if (borrow.Gone)
                {
                    continue; // its last ref went just now: start a new borrow
                }

                borrow.Refs++;
                if (!borrow.Held)
                {
                    // The first ref here: this process becomes a holder (it stays one while a released hold lingers).
                    borrow.Held = true;
                    _directory.AddRef(id, _holder, owner: null);
                    NewBorrows++;
                }

                return;
            }
        }
    }

    /// <summary>
    /// Counts a new <c>ObjectRef</c> instance (see <see cref="AddRef"/>) and returns the owned entry it may read
    /// directly (null for a borrowed ref). The first ref to a result not yet escaped is linked to its entry:
    /// when the value is held here inline and that ref is still the only one, the entry leaves the table and
    /// lives on in the ref alone (<see cref="Entry.Detached"/>): nothing else holds it, so value, entry and ref
    /// die together in a young collection, where a table entry released by the ref's finalizer survived one
    /// collection at least and was promoted with everything it held, for every task.
    /// </summary>
    /// <param name="id">The object.</param>
    /// <param name="objectRef">The new ref, which takes the entry; its finalizer is suppressed while the entry is detached.</param>
    public Entry? AddLocalRef(ObjectId id, object objectRef)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                if (!entry.Freed && !entry.Dropped)
                {
                    if (++entry.Refs == 1 && !entry.Escaped && !entry.Exposed && entry.Ref is null)
                    {
                        if (entry.Value is null)
                        {
                            entry.Ref = objectRef; // decided when the value comes (Complete)
                        }
                        else if (Detachable(entry, entry.Value))
                        {
                            Detach(id, entry, objectRef);
                        }
                    }

                    return entry;
                }
            }
        }

        AddBorrowedRef(id);
        return null;
    }

    /// <summary>
    /// Whether an owned entry may leave the table and live in its one ref (under its lock): a value held here
    /// inline, ready, not failed, holding no refs, not shared with the directory, with no other local ref and
    /// no task in flight taking it. Its lineage is not needed (an inline value cannot be lost) and nothing is
    /// freed when it goes.
    /// </summary>
    private bool Detachable(Entry entry, ObjectValue value) =>
        entry is { Escaped: false, Exposed: false, Freed: false, Dropped: false, Refs: 1, Superseded: null } &&
        value is { Error: null, Location: null, Inline: not null } &&
        value.Refs is not { Length: > 0 } &&
        !Volatile.Read(ref _stopped);

    private void Detach(ObjectId id, Entry entry, object objectRef)
    {
        entry.Ref = null;
        entry.Detached = true;
        _entries.TryRemove(KeyValuePair.Create(id, entry));
        // The ref's count is the entry's only one, and nothing is left to release when it goes.
        GC.SuppressFinalize(objectRef);
    }

    /// <summary>
    /// The ref holding <paramref name="entry"/> hands out its id (to a task argument, a value it is written into,
    /// any call by id): from now on the entry is found by id, so it is never detached; a detached one goes back in
    /// the table, counted by the ref's finalizer again. Returns the entry to read from then (another one only if
    /// the table got a new entry for the id meanwhile, which the ref is then counted on).
    /// </summary>
    public Entry Expose(ObjectId id, Entry entry, object objectRef)
    {
        lock (entry)
        {
            if (entry.Exposed)
            {
                return entry;
            }

            entry.Exposed = true;
            // A pending result's ref is not kept alive by its entry any more: it is counted like any other.
            entry.Ref = null;
            if (!entry.Detached)
            {
                return entry;
            }

            entry.Detached = false;
            GC.ReRegisterForFinalize(objectRef);
            if (_entries.TryAdd(id, entry))
            {
                return entry;
            }
        }

        // Not expected: the id has a new entry; the ref is counted there (its finalizer releases by id).
        AddRef(id);
        return _entries.TryGetValue(id, out var current) ? current : entry;
    }

    /// <summary>The value when <paramref name="entry"/> (an owned entry a ref holds) is ready; false when it is not, or was freed.</summary>
    public static bool TryGetReady(Entry entry, out ObjectValue value)
    {
        if (Volatile.Read(ref entry.Value) is { } ready && !Volatile.Read(ref entry.Freed))
        {
            value = ready;
            return true;
        }

        value = null!;
        return false;
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

    /// <summary>
    /// Drops one local reference now. The last one frees an owned object that never escaped; for an escaped
    /// or borrowed one it removes this process as a holder in the directory, which frees it when no holder is left.
    /// </summary>
    public void Release(ObjectId id)
    {
        if (!_entries.TryGetValue(id, out var entry) || !ReleaseOwned(id, entry))
        {
            ReleaseBorrowed(id);
        }
    }

    private void ReleaseBorrowed(ObjectId id)
    {
        if (!_borrowed.TryGetValue(id, out var borrow))
        {
            return;
        }

        lock (borrow)
        {
            if (borrow.Gone || --borrow.Refs > 0)
            {
                return;
            }

            borrow.ZeroSince = Environment.TickCount64;
        }

        Linger(id);
    }

    /// <summary>
    /// How long this process keeps its hold in the directory after its last local ref to an object goes. Refs
    /// are often made again at once (a loop that reads the same value, each read making new refs and dropping
    /// the last ones): holding on a moment saves two directory changes and a flush per round.
    /// </summary>
    private static readonly TimeSpan HoldLinger = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<ObjectId, byte> _lingering = new();
    private Timer? _lingerTimer;

    private void Linger(ObjectId id)
    {
        if (Volatile.Read(ref _stopped))
        {
            return; // the runtime let go of everything already
        }

        _lingering.TryAdd(id, 0);
        if (Volatile.Read(ref _lingerTimer) is null)
        {
            var timer = new Timer(static state => ((OwnedObjects)state!).LetGoLingering(), this, Timeout.Infinite, Timeout.Infinite);
            if (Interlocked.CompareExchange(ref _lingerTimer, timer, null) is null)
            {
                timer.Change(HoldLinger / 2, HoldLinger / 2);
            }
            else
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>Removes this process's hold on the objects whose local refs have all been gone for <see cref="HoldLinger"/>.</summary>
    private void LetGoLingering()
    {
        var now = Environment.TickCount64;
        foreach (var id in _lingering.Keys)
        {
            try
            {
                if (LetGoIfIdle(id, now))
                {
                    _lingering.TryRemove(id, out _);
                    // A release may have come between the look and the removal, finding the id still listed.
                    if (IsIdle(id))
                    {
                        _lingering.TryAdd(id, 0);
                    }
                }
            }
            catch (Exception)
            {
                // Never let the timer die: the next tick tries again.
            }
        }
    }

    /// <summary>Whether this process still holds the object in the directory with no local ref (a lingering hold).</summary>
    private bool IsIdle(ObjectId id)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                return entry is { Escaped: true, Freed: false, Dropped: false, Refs: 0 };
            }
        }

        if (_borrowed.TryGetValue(id, out var borrow))
        {
            lock (borrow)
            {
                return borrow is { Gone: false, Refs: 0 };
            }
        }

        return false;
    }

    private bool LetGoIfIdle(ObjectId id, long now)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                if (entry.Freed || entry.Dropped || !entry.Escaped || entry.Refs > 0)
                {
                    return true; // taken again, or no longer held here
                }

                if (now - entry.ZeroSince < HoldLinger.TotalMilliseconds)
                {
                    return false;
                }

                // The directory counts it from here: this process lets go of its one reference there. A value
                // still to come is published when it does (and freed there, when nothing else holds it); an
                // object the directory can tell this runtime about keeps its lineage here until it is freed,
                // so a borrower that finds its copy lost can have it made again.
                _directory.RemoveRef(id, _holder);
                if (entry.Value is null || entry.Notified)
                {
                    Drop(entry);
                    return true;
                }

                Free(entry);
            }

            _entries.TryRemove(KeyValuePair.Create(id, entry));
            return true;
        }

        if (_borrowed.TryGetValue(id, out var borrow))
        {
            lock (borrow)
            {
                if (borrow.Gone || borrow.Refs > 0)
                {
                    return true;
                }

                if (now - borrow.ZeroSince < HoldLinger.TotalMilliseconds)
                {
                    return false;
                }

                borrow.Gone = true;
                _borrowed.TryRemove(KeyValuePair.Create(id, borrow));
                _directory.RemoveRef(id, _holder);
            }
        }

        return true;
    }

    /// <summary>Releases a ref counted on the owned entry; false when the entry no longer counts refs (then it was a borrowed one).</summary>
    private bool ReleaseOwned(ObjectId id, Entry entry)
    {
        ObjectValue? freed = null;
        TaskCompletionSource<ObjectValue>? waiters = null;
        ReadyCountdown? countdown = null;
        var linger = false;
        lock (entry)
        {
            if (entry.Freed || entry.Dropped)
            {
                return false;
            }

            if (--entry.Refs > 0)
            {
                return true;
            }

            if (entry.Escaped)
            {
                // The directory counts it: this process's hold there goes after a moment, unless a ref comes back.
                entry.ZeroSince = Environment.TickCount64;
                linger = true;
            }
            else
            {
                Free(entry);
                freed = entry.Value;
                waiters = entry.Waiters;
                entry.Waiters = null;
                countdown = entry.Countdown;
                entry.Countdown = null;
            }
        }

        if (linger)
        {
            Linger(id);
            return true;
        }

        _entries.TryRemove(KeyValuePair.Create(id, entry));
        // No ref is left to wait with; should an internal waiter remain, it must not wait forever.
        waiters?.TrySetResult(Objects.LostObjects.Value(id, Objects.LostObjects.Freed, "(freed object)"));
        countdown?.Signal(); // its batch finds the entry freed and looks the object up by id
        if (freed is not null)
        {
            _free(id, freed);
        }

        return true;
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
    public void Stop()
    {
        Volatile.Write(ref _stopped, true);
        Interlocked.Exchange(ref _lingerTimer, null)?.Dispose();
    }

    /// <summary>The escaped objects still being made: their values would come to this process, so it must hand them on before it goes.</summary>
    public List<ObjectId> PendingEscaped()
    {
        var pending = new List<ObjectId>();
        foreach (var (id, entry) in _entries)
        {
            lock (entry)
            {
                if (entry is { Escaped: true, Value: null, Freed: false })
                {
                    pending.Add(id);
                }
            }
        }

        return pending;
    }

    /// <summary>
    /// The runtime is going away: lets go of everything it holds. Owned objects that never left the process
    /// are freed; for the rest this process stops being a holder in the directory, which keeps them while
    /// others hold them (the object outlives its owner). An escaped object still being made keeps its entry,
    /// so a reply that still comes is published, not freed.
    /// </summary>
    public void LetGo()
    {
        Stop();
        foreach (var (id, entry) in _entries)
        {
            ObjectValue? free = null;
            lock (entry)
            {
                if (entry.Freed)
                {
                    continue;
                }

                if (entry.Escaped)
                {
                    if (!entry.Dropped)
                    {
                        _directory.RemoveRef(id, _holder);
                    }

                    if (entry.Value is null)
                    {
                        entry.Notified = true;
                        Drop(entry);
                        continue;
                    }

                    Free(entry);
                }
                else
                {
                    Free(entry);
                    free = entry.Value;
                }
            }

            _entries.TryRemove(KeyValuePair.Create(id, entry));
            if (free is not null)
            {
                try
                {
                    _free(id, free);
                }
                catch (Exception)
                {
                    // Best effort: a node that is gone took the copy with it.
                }
            }
        }

        foreach (var (id, borrow) in _borrowed)
        {
            lock (borrow)
            {
                if (!borrow.Gone && borrow.Held)
                {
                    _directory.RemoveRef(id, _holder);
                }

                borrow.Gone = true;
            }
        }

        _borrowed.Clear();
    }

    /// <summary>
    /// A node died, and maybe directory shards with it: queues again what this process is the source of truth for.
    /// For each escaped object it owns: the owner, its value when ready, this process's hold unless it let go, and
    /// the holds its value has on the refs it contains; for each borrowed ref it holds: its hold. Each change is
    /// queued under the object's lock, so it follows (in the directory queue) every change made before it, and a
    /// release made after it follows it. Returns how many objects it covered.
    /// </summary>
    public int Republish()
    {
        if (Volatile.Read(ref _stopped))
        {
            return 0;
        }

        var owner = _ownerReference();
        var count = 0;
        foreach (var (id, entry) in _entries)
        {
            lock (entry)
            {
                if (!entry.Escaped || entry.Freed)
                {
                    continue;
                }

                _directory.Restore(id, entry.Dropped ? null : _holder, _runtimeId, CreatorOf(entry.Origin), owner);
                if (entry.Value is { } value)
                {
                    _directory.Publish(id, value);
                    var contained = Objects.ObjectHolders.Object(id);
                    foreach (var r in value.Refs ?? [])
                    {
                        _directory.Restore(r, contained);
                    }
                }

                count++;
            }
        }

        foreach (var (id, borrow) in _borrowed)
        {
            lock (borrow)
            {
                if (borrow is { Held: true, Gone: false })
                {
                    _directory.Restore(id, _holder);
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>The directory freed an escaped object this runtime let go of: its entry (kept for its lineage) goes.</summary>
    public void Forget(ObjectId id)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                if (!entry.Dropped || entry.Freed)
                {
                    return;
                }

                Free(entry);
            }

            _entries.TryRemove(KeyValuePair.Create(id, entry));
        }
    }

    private bool _stopped;

    /// <summary>Whether finalizers queued releases not yet applied.</summary>
    public bool HasReleases => !_released.IsEmpty;

    /// <summary>Registers an object this process will receive (a return of a task or call it submits).</summary>
    /// <param name="id">The object.</param>
    /// <param name="origin">
    /// What makes it: the task (its lineage, kept while the object lives so a lost copy can be made again) or
    /// the actor call. No copy is made: the entry holds the submitted record itself.
    /// </param>
    public void AddPending(ObjectId id, object? origin = null) => _entries.TryAdd(id, new Entry { Origin = origin });

    /// <summary>Registers an object that is ready now (a put).</summary>
    public void AddReady(ObjectId id, ObjectValue value)
    {
        var entry = new Entry { Value = value };
        Press(entry, value);
        if (!_entries.TryAdd(id, entry))
        {
            Unpress(entry);
        }
    }

    /// <summary>
    /// Tells the GC about the store memory a stored value's refs here keep alive (its size), so it collects them
    /// sooner: a ref is released by its finalizer, and a process that allocates little on its own heap (a driver
    /// putting large arrays) ran so few collections that its dead refs held the store's segments for many puts,
    /// and each new put had to fault in fresh pages instead of reusing a freed segment. Taken back when the
    /// local refs are gone (<see cref="Unpress"/>). Under the entry's lock, or before it is shared.
    /// </summary>
    private void Press(Entry entry, ObjectValue value)
    {
        if (entry.Pressure == 0 && value is { Location: not null, Size: > 0 })
        {
            entry.Pressure = value.Size;
            GC.AddMemoryPressure(value.Size);
            Interlocked.Add(ref _pressure, value.Size);
        }
    }

    /// <summary>Marks an entry freed (under its lock): no ref here holds its value any more.</summary>
    private void Free(Entry entry)
    {
        entry.Freed = true;
        Unpress(entry);
    }

    /// <summary>Marks an escaped entry dropped (under its lock): no local ref is left, the directory counts it.</summary>
    private void Drop(Entry entry)
    {
        entry.Dropped = true;
        Unpress(entry);
    }

    private void Unpress(Entry entry)
    {
        if (entry.Pressure > 0)
        {
            GC.RemoveMemoryPressure(entry.Pressure);
            Interlocked.Add(ref _pressure, -entry.Pressure);
            entry.Pressure = 0;
        }
    }

    private long _pressure;

    /// <summary>The bytes of stored values that local refs hold, as told to the GC (see <see cref="Press"/>).</summary>
    public long Pressure => Interlocked.Read(ref _pressure);

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
            Free(entry);
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
    public Task<ObjectValue>? WhenReady(ObjectId id) => _entries.TryGetValue(id, out var entry) ? WhenReady(entry) : null;

    /// <summary>Completes when the owned entry a ref holds is ready; null when it was freed (then look it up by id).</summary>
    public static Task<ObjectValue>? WhenReady(Entry entry)
    {
        if (Volatile.Read(ref entry.Freed))
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

    /// <summary>How <see cref="CountIn"/> left an entry.</summary>
    public enum Counted
    {
        /// <summary>Ready already: nothing to wait for.</summary>
        Ready,
        /// <summary>Pending: the countdown is signalled when it is ready (or freed).</summary>
        Counted,
        /// <summary>Another batch counts it already: wait on <see cref="WhenReady(Entry)"/> instead.</summary>
        Busy,
        /// <summary>Freed: look the object up by id.</summary>
        Freed,
    }

    /// <summary>
    /// Counts a pending entry in a batch's <paramref name="countdown"/>, so a batch of pending results is waited for
    /// with one object, not a task per result.
    /// </summary>
    public static Counted CountIn(Entry entry, ReadyCountdown countdown)
    {
        if (Volatile.Read(ref entry.Freed))
        {
            return Counted.Freed;
        }

        if (Volatile.Read(ref entry.Value) is not null)
        {
            return Counted.Ready;
        }

        lock (entry)
        {
            if (entry.Freed)
            {
                return Counted.Freed;
            }

            if (entry.Value is not null)
            {
                return Counted.Ready;
            }

            if (entry.Countdown is not null)
            {
                return Counted.Busy;
            }

            countdown.Add();
            entry.Countdown = countdown;
            return Counted.Counted;
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
        ReadyCountdown? countdown;
        lock (entry)
        {
            if (entry.Freed)
            {
                return false; // every ref went before the result came: the caller frees the value
            }

            if (entry.Value is { } kept)
            {
                // A second value (a duplicate reply, or a rebuild that made returns still held) is dropped:
                // the refs it holds are let go, and the caller frees its stored copy unless it is the very copy kept.
                // (When it returns false, the caller's FreeStored releases them with the copy.)
                var handled = kept.Location is null || kept.Location == value.Location;
                if (handled && !ReferenceEquals(kept, value))
                {
                    ReleaseContained(id, value);
                }

                return handled;
            }

            Volatile.Write(ref entry.Value, value);
            if (!entry.Dropped)
            {
                Press(entry, value);
            }

            if (value.Location is null && entry.Origin is not (null or string))
            {
                // A value held here (inline) cannot be lost while this process lives, so its lineage (the task
                // or call with its arguments) is never needed again: only its name stays, for the memory view.
                // Entries outlive their refs by a collection or more (refs are released by finalizers), and
                // every task's spec used to be promoted out of gen0 with its entry.
                entry.Origin = CreatorOf(entry.Origin);
            }

            waiters = entry.Waiters;
            entry.Waiters = null;
            countdown = entry.Countdown;
            entry.Countdown = null;
            if (entry.Ref is { } linked)
            {
                entry.Ref = null;
                if (Detachable(entry, value))
                {
                    Detach(id, entry, linked);
                }
            }

            if (entry.Superseded is { } lostValue)
            {
                entry.Superseded = null;
                ReleaseContained(id, lostValue);
            }
            if (entry.Escaped)
            {
                // Published in this lock, so it follows the escape's reference in the directory queue.
                _directory.Publish(id, value);
            }

            if (entry.Dropped && !entry.Notified)
            {
                // No ref is left here: the directory has it (and frees it at once if nothing else holds it).
                Free(entry);
                _entries.TryRemove(KeyValuePair.Create(id, entry));
            }
        }

        waiters?.TrySetResult(value);
        countdown?.Signal();
        return true;
    }

    /// <summary>
    /// A draining node moved the primary copy of <paramref name="id"/> from <paramref name="from"/> to
    /// <paramref name="to"/>: an owned entry that points at the old node points at the new one, so later reads and the
    /// free go there. False when the object is not owned here or its record points elsewhere.
    /// </summary>
    public bool Relocate(ObjectId id, string from, string to)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return false;
        }

        lock (entry)
        {
            if (entry.Freed || entry.Value is not { Location: { } at } value || at != from)
            {
                return false;
            }

            Volatile.Write(ref entry.Value, Objects.ObjectMoves.Relocated(value, to));
            return true;
        }
    }

    /// <summary>Lets go of the references a value holds to the objects it contains (it is being freed or dropped).</summary>
    public void ReleaseContained(ObjectId id, ObjectValue value)
    {
        if (value.Refs is not { Length: > 0 } refs)
        {
            return;
        }

        var holder = Objects.ObjectHolders.Object(id);
        foreach (var r in refs)
        {
            _directory.RemoveRef(r, holder);
        }
    }

    /// <summary>
    /// A ref to <paramref name="id"/> is leaving this process inside a value: from now on the directory counts
    /// it. This process becomes a holder there (for all its local refs) and publishes the object (now if
    /// ready, else when it is). Objects not owned here are already there.
    /// </summary>
    public void Escape(ObjectId id)
    {
        if (!_entries.TryGetValue(id, out var entry) || Volatile.Read(ref entry.Escaped))
        {
            return;
        }

        var owner = _ownerReference();
        lock (entry)
        {
            if (entry.Escaped || entry.Freed)
            {
                return;
            }

            entry.Escaped = true;
            entry.Notified = owner is not null;
            // A ref being written is alive, so the local count is not zero; the one reference here stands for
            // all of them until the count reaches zero (ReleaseOwned).
            _directory.AddRef(id, _holder, _runtimeId, CreatorOf(entry.Origin), owner);
            if (entry.Value is { } ready)
            {
                _directory.Publish(id, ready);
            }
        }
    }

    /// <summary>
    /// The stored copy <paramref name="lost"/> of an owned object cannot be read (its node died, or lost it):
    /// starts making it again from its lineage when its task may be re-run. Every return of that task whose
    /// copy was on the same node is made pending again, and the task is handed to <paramref name="resubmit"/>
    /// once, however many readers hit the loss. Returns how the caller goes on.
    /// </summary>
    public RebuildOutcome TryRebuild(ObjectId id, ObjectValue lost, Action<TaskSpec> resubmit, out string why) =>
        TryRebuild(id, lost, resubmit, resend: null, out why);

    /// <param name="id">The lost object.</param>
    /// <param name="lost">Its value whose copy was lost.</param>
    /// <param name="resubmit">Runs a task again.</param>
    /// <param name="resend">Sends an actor call again (null: actor results are not rebuilt).</param>
    /// <param name="why">Why it cannot be made again, when it cannot.</param>
    public RebuildOutcome TryRebuild(ObjectId id, ObjectValue lost, Action<TaskSpec> resubmit, Action<ActorLineage>? resend, out string why)
    {
        why = "";
        if (!_entries.TryGetValue(id, out var entry))
        {
            why = "it is not owned by this process, which cannot make it again (only an object's owner rebuilds it)";
            return RebuildOutcome.Impossible;
        }

        // One decision per task at a time: the task's returns share its lineage object, so two readers of
        // two of its lost returns cannot both decide to run it again.
        TaskSpec? toRun;
        ActorLineage? toSend = null;
        RebuildOutcome outcome;
        lock (entry.Origin is null or string ? entry : entry.Origin)
        {
            if (entry.Origin is ActorLineage actorLineage)
            {
                outcome = DecideActorRebuild(entry, lost, actorLineage, resend is not null, out toSend, out why);
                toRun = null;
            }
            else
            {
                outcome = DecideRebuild(id, entry, lost, out toRun, out why);
            }
        }

        if (toRun is not null)
        {
            resubmit(toRun);
        }

        if (toSend is not null)
        {
            resend!(toSend);
        }

        return outcome;
    }

    /// <summary>
    /// An actor call's result is made again the way Ray does: the call is sent again to its actor (by then
    /// restarted, if the actor's node died), within the actor's MaxTaskRetries, when this process created it.
    /// </summary>
    private RebuildOutcome DecideActorRebuild(Entry entry, ObjectValue lost, ActorLineage lineage, bool canSend, out ActorLineage? toSend, out string why)
    {
        toSend = null;
        why = "";
        lock (entry)
        {
            if (entry.Value is null || !ReferenceEquals(entry.Value, lost))
            {
                return RebuildOutcome.Started; // already being made again, or made again meanwhile
            }

            var refusal = !canSend ? "actor results are made again only when read by their owner" : ActorRebuildable?.Invoke(lineage, entry.Rebuilds);
            foreach (var arg in refusal is null ? lineage.OwnedArgs ?? [] : [])
            {
                if (!_entries.ContainsKey(arg))
                {
                    refusal = $"its argument {arg} was freed after the call ran (every ref to it was dropped, or it was a large by-value argument passed through the store), so the call cannot be sent again";
                    break;
                }
            }

            if (refusal is not null)
            {
                why = $"it is the result of actor call '{lineage.Call.Name}' ({lineage.Call.CallId:N}), and {refusal}";
                return RebuildOutcome.Impossible;
            }

            Supersede(new ObjectId(lineage.Call.CallId, 1), entry, lost);
            // Numbered, so the actor runs this rebuild once however often it is sent, and not a kept older reply.
            toSend = lineage with { Call = lineage.Call with { Rebuild = entry.Rebuilds } };
        }

        return RebuildOutcome.Started;
    }

    private RebuildOutcome DecideRebuild(ObjectId id, Entry entry, ObjectValue lost, out TaskSpec? toRun, out string why)
    {
        why = "";
        toRun = null;
        TaskSpec spec;
        ObjectId[]? ownedArgs = null;
        lock (entry)
        {
            if (entry.Value is null)
            {
                return RebuildOutcome.Started; // already being made again: wait for it
            }

            if (!ReferenceEquals(entry.Value, lost))
            {
                return RebuildOutcome.Started; // made again meanwhile: read the new copy
            }

            switch (entry.Origin)
            {
                case Lineage lineage when Rebuildable(lineage.Spec, entry, out why):
                    spec = lineage.Spec;
                    ownedArgs = lineage.OwnedArgs;
                    break;
                case TaskSpec task when Rebuildable(task, entry, out why):
                    spec = task;
                    break;
                case Lineage or TaskSpec:
                    return RebuildOutcome.Impossible;
                case NoLineage none:
                    why = $"it was made by task '{none.Name}' ({none.TaskId:N}), whose lineage was not kept: its by-value arguments are {none.ArgumentBytes:N0} bytes, " +
                          $"over MaxLineageArgumentBytes = {none.Limit:N0} (pass large data as a ref to keep results rebuildable)";
                    return RebuildOutcome.Impossible;
                case string name:
                    why = $"it was made by '{name}' and its value is held by this process, not in a store, so there is no copy to make again";
                    return RebuildOutcome.Impossible;
                default:
                    why = "it was put by this process with PutAsync, and a put has no task to make it again (put it again, or keep a copy)";
                    return RebuildOutcome.Impossible;
            }

            // The task reads its owned ref arguments again: each must still be here (lost copies are made
            // again in turn), else the re-run would wait for an object no one has.
            foreach (var arg in ownedArgs ?? [])
            {
                if (!_entries.ContainsKey(arg))
                {
                    why = $"it was made by task '{spec.Name}' ({spec.TaskId:N}), whose argument {arg} was freed after the task ran (every ref to it was dropped), so the task cannot run again";
                    return RebuildOutcome.Impossible;
                }
            }

            // Pending again from here: later readers wait for the re-run instead of starting another.
            Supersede(id, entry, lost);
        }

        // The task's other returns on the same node are gone too: they wait for the same re-run.
        for (var i = 1; i <= Math.Max(spec.NumReturns, 1); i++)
        {
            if (_entries.TryGetValue(new ObjectId(spec.TaskId, i), out var sibling))
            {
                lock (sibling)
                {
                    if (sibling.Value is { Error: null, Location: { } at } old && at == lost.Location)
                    {
                        Supersede(new ObjectId(spec.TaskId, i), sibling, old);
                    }
                }
            }
        }

        toRun = spec;
        return RebuildOutcome.Started;
    }

    /// <summary>
    /// Makes an object pending again for a re-run (under its lock): a shared one's directory record too, and the
    /// refs the lost value held are let go once the new value, which holds its own, arrives.
    /// </summary>
    private void Supersede(ObjectId id, Entry entry, ObjectValue lost)
    {
        entry.Value = null;
        entry.Superseded = lost;
        entry.Rebuilds++;
        if (entry.Escaped && lost.Location is { } at)
        {
            _directory.Reset(id, at);
        }
    }

    private static bool Rebuildable(TaskSpec task, Entry entry, out string why)
    {
        // (A generator's values are published to the directory, never owned here, so they never get this far.)
        why = "";
        if (task.MaxRetries >= 0 && entry.Rebuilds >= task.MaxRetries)
        {
            why = task.MaxRetries == 0
                ? $"it was made by task '{task.Name}' ({task.TaskId:N}), which may not be re-run (MaxRetries = 0)"
                : $"it was made by task '{task.Name}' ({task.TaskId:N}), whose MaxRetries = {task.MaxRetries} re-runs to rebuild it are used up";
            return false;
        }

        return true;
    }

    /// <summary>What made an owned object, for the memory view: a task's or actor method's name, or "put".</summary>
    public string? CreatorOf(ObjectId id) => _entries.TryGetValue(id, out var entry) ? CreatorOf(entry.Origin) : null;

    private static string CreatorOf(object? origin) => origin switch
    {
        TaskSpec task => task.Name,
        Lineage lineage => lineage.Spec.Name,
        NoLineage none => none.Name,
        ActorLineage actor => actor.Call.Name,
        string name => name, // an inline result that no longer keeps its lineage
        _ => "put",
    };

    /// <summary>
    /// A task's lineage when it took owned ref arguments: the spec, and which of its arguments this process
    /// owned when it was submitted (a re-run needs them still here; refs owned elsewhere are read from the directory).
    /// </summary>
    public sealed record Lineage(TaskSpec Spec, ObjectId[]? OwnedArgs);

    /// <summary>The origin of an actor call's result: the call, and the actor to send it to again.</summary>
    public sealed record ActorLineage(ActorId Actor, ActorCall Call, ObjectId[]? OwnedArgs = null);

    /// <summary>
    /// Whether an actor call's lost result may be made again by sending the call again (given the rebuilds
    /// made so far): null when it may, else why not. Set by the runtime, which knows the actors it created.
    /// </summary>
    public Func<ActorLineage, int, string?>? ActorRebuildable { get; set; }

    /// <summary>The origin of a task result whose lineage was not kept (its by-value arguments were too large).</summary>
    public sealed record NoLineage(string Name, Guid TaskId, long ArgumentBytes, long Limit);

    /// <summary>An owned object's entry: in the table while it can be looked up by id, else held by its one ref alone.</summary>
    internal sealed class Entry
    {
        /// <summary>
        /// The first ref made to a pending result, kept alive by the entry until the value comes, when the entry
        /// detaches into it if it can (see <see cref="AddLocalRef"/>); null otherwise.
        /// </summary>
        public object? Ref;
        /// <summary>Out of the table, held by its one ref alone (whose finalizer is suppressed).</summary>
        public bool Detached;
        /// <summary>Its ref handed its id out: it stays in the table, found by id.</summary>
        public bool Exposed;
        /// <summary>The memory pressure its stored value adds while refs here hold it (see <c>Press</c>).</summary>
        public long Pressure;
        /// <summary>
        /// The task (lineage) or actor call that makes the object; only its name (a string) once an inline value
        /// came, which cannot be lost; null for a put.
        /// </summary>
        public object? Origin;
        /// <summary>How many times the object was made again after its copy was lost.</summary>
        public int Rebuilds;
        public ObjectValue? Value;
        /// <summary>A lost value being made again; the refs it holds are let go when the new value comes.</summary>
        public ObjectValue? Superseded;
        public TaskCompletionSource<ObjectValue>? Waiters;
        /// <summary>A batch get or wait counting this entry among those it waits for (one object for the whole batch).</summary>
        public ReadyCountdown? Countdown;
        public bool Escaped;
        /// <summary>
        /// Escaped, and every local ref went: the value is published when it comes; the entry stays for its
        /// lineage until the directory frees the object when <see cref="Notified"/>, else it goes then.
        /// </summary>
        public bool Dropped;
        /// <summary>The directory knows how to reach this runtime, and says when it frees the object.</summary>
        public bool Notified;
        /// <summary>When the local refs of an escaped object last reached zero (its hold lingers a moment).</summary>
        public long ZeroSince;
        public bool Freed;
        public int Refs;
    }

    /// <summary>Local refs to an object owned elsewhere; <see cref="Gone"/> once the last went (a new ref starts a new borrow).</summary>
    private sealed class Borrow
    {
        public int Refs;
        public bool Gone;
        /// <summary>This process's hold is registered in the directory.</summary>
        public bool Held;
        /// <summary>When the local refs last reached zero (the hold lingers a moment before it goes).</summary>
        public long ZeroSince;
    }
}
