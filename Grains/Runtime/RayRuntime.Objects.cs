using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Objects.Store;
using RayOrleans.Serialization;

namespace RayOrleans.Runtime;

/// <summary>Objects: puts, gets and waits, from the owner's table or through the directory.</summary>
internal sealed partial class RayRuntime
{
    private const int SeenReadyLimit = 1_000_000;
    private readonly SegmentMappings _mappings = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, byte> _seenReady = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, Task<ObjectValue>> _polls = new();

    /// <summary>Serializes and stores a value this runtime then owns; the directory hears of it when a ref to it escapes.</summary>
    public async Task<ObjectId> PutAsync(object? value, Type type)
    {
        if (Owned.HasReleases)
        {
            Owned.DrainReleases();
        }

        var id = ObjectId.NewPut();
        Owned.AddReady(id, await StoreValueAsync(id, value, type).ConfigureAwait(false));
        return id;
    }

    /// <summary>
    /// Serializes and stores a value. A large array of primitives on a node is written straight into its
    /// store's segment (one copy, no intermediate array); anything else is serialized first.
    /// </summary>
    public ValueTask<ObjectValue> StoreValueAsync(ObjectId id, object? value, Type type)
    {
        // A driver on a node's host writes a large array straight into a segment file in that node's folder.
        if (LocalStore is null && Serializer.RawSize(value) is { } rawSize && rawSize > Options.InlineThreshold &&
            PutNode() is { } target && SameHostFolder(target) is not null)
        {
            return new ValueTask<ObjectValue>(StoreIntoSegmentAsync(target, id, (Array)value!, rawSize));
        }

        return StoreValueHereAsync(id, value, type);
    }

    // Its own method: the lambda's closure in StoreValueAsync would be allocated on every store, small ones too.
    private async Task<ObjectValue> StoreIntoSegmentAsync(string target, ObjectId id, Array value, long rawSize)
    {
        await WriteSegmentAsync(target, id, rawSize, span => Serializer.WriteRaw(value, span)).ConfigureAwait(false);
        return new ObjectValue { Location = target, Size = rawSize, ProducerNode = target };
    }

    private string? _putNode;

    /// <summary>
    /// The node a process without a store of its own (an external driver) stores its large values in: one node,
    /// kept while it is in the cluster view, a node on this host when there is one (as Ray's driver puts into its
    /// own node's store), picked at random among them. That node's pool and this process's mappings of its segments then serve put after put.
    /// Puts spread at random over idle nodes each found a node whose pool had no free segment and a segment this
    /// process had not mapped, and the first touch of fresh pages was most of a large put's time.
    /// </summary>
    private string? PutNode()
    {
        var reported = Cluster.Reported;
        if (Volatile.Read(ref _putNode) is { } kept && reported.Any(n => n.NodeId == kept))
        {
            return kept;
        }

        // One of this host's nodes at random, so that several drivers on a host share its nodes out.
        var sameHost = reported.Where(n => SameHostFolder(n.NodeId) is not null).ToList();
        var picked = sameHost.Count > 0 ? sameHost[Random.Shared.Next(sameHost.Count)].NodeId : Cluster.PickNode(ResourceSet.Empty, null, forActor: false);
        Volatile.Write(ref _putNode, picked);
        return picked;
    }

    private ValueTask<ObjectValue> StoreValueHereAsync(ObjectId id, object? value, Type type)
    {
        if (LocalStore is not null && LocalNodeId is not null && Serializer.RawSize(value) is { } size && size > Options.InlineThreshold)
        {
            if (LocalStore.Contains(id))
            {
                return ValueTask.FromResult(ExistingCopy(size)); // a re-run of the task that made it here
            }

            var stored = LocalStore.Create(id, size);
            try
            {
                Serializer.WriteRaw((Array)value!, stored.GetSpan());
                LocalStore.Seal(stored);
            }
            catch
            {
                LocalStore.Remove(id);
                throw;
            }

            return ValueTask.FromResult(new ObjectValue { Location = LocalNodeId, Size = size, ProducerNode = LocalNodeId });
        }

        var bytes = RefCapture.Serialize(Serializer, value, type, out var refs);
        return refs is null ? StoreAsync(id, bytes) : StoreHoldingRefsAsync(id, bytes, refs);
    }

    /// <summary>
    /// Stores a value that contains refs: the object becomes a holder of each of them in the directory, and
    /// the holds reach the directory before the value leaves this call (so no reader can let go first).
    /// </summary>
    private async ValueTask<ObjectValue> StoreHoldingRefsAsync(ObjectId id, byte[] bytes, ObjectId[] refs)
    {
        var holder = Objects.ObjectHolders.Object(id);
        foreach (var r in refs)
        {
            Publisher.AddRef(r, holder, owner: null);
        }

        ObjectValue value;
        try
        {
            value = await StoreAsync(id, bytes, refs: refs).ConfigureAwait(false);
        }
        catch
        {
            foreach (var r in refs)
            {
                Publisher.RemoveRef(r, holder); // not stored: it holds nothing
            }

            throw;
        }

        await Publisher.FlushAsync().ConfigureAwait(false);
        return value;
    }

    /// <summary>
    /// Frees an object this runtime owns: its entry here and its copy in a node's store. For objects no ref
    /// to which escaped (the caller's word: reference counting is not built yet).
    /// </summary>
    public void Free(ObjectId id)
    {
        if (Owned.Remove(id) is { } value)
        {
            FreeStored(id, value);
        }
    }

    /// <summary>Frees the stored copy of an object (nothing to do for an inline one), and lets go of the refs its value holds.</summary>
    public void FreeStored(ObjectId id, ObjectValue value)
    {
        Owned.ReleaseContained(id, value);
        if (value.Location is not { } location)
        {
            return;
        }

        if (location == LocalNodeId && LocalStore is not null)
        {
            LocalStore.Remove(id);
            return;
        }

        Forget(() => Node(location).FreeObjectsAsync([id]));
    }

    /// <summary>
    /// Sends a one-way message whose failure changes nothing (a free, the end of a lease): the client may be
    /// shutting down or the node gone, and then the copy went with it.
    /// </summary>
    private static void Forget(Func<Task> send)
    {
        try
        {
            send().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (Exception e) when (e is ObjectDisposedException or OrleansException or InvalidOperationException)
        {
        }
    }

    /// <summary>
    /// The record of a value made here: its bytes inline when small, else stored in this node's store (or,
    /// from an external driver, written in chunks to a node's) with that node as its location.
    /// </summary>
    public ValueTask<ObjectValue> StoreAsync(ObjectId id, byte[] bytes, int generatorCount = 0, ObjectId[]? refs = null) =>
        bytes.Length <= Options.InlineThreshold
            ? new ValueTask<ObjectValue>(new ObjectValue { Inline = bytes, Size = bytes.Length, ProducerNode = LocalNodeId, GeneratorCount = generatorCount, Refs = refs })
            : StoreLargeAsync(id, bytes, generatorCount, refs); // apart: its closure would be allocated for small values too

    private async ValueTask<ObjectValue> StoreLargeAsync(ObjectId id, byte[] bytes, int generatorCount, ObjectId[]? refs)
    {
        string location;
        if (LocalStore is not null && LocalNodeId is not null)
        {
            if (LocalStore.Contains(id))
            {
                // A re-run of the task that made it here: the first copy stands.
                return new ObjectValue { Location = LocalNodeId, Size = bytes.Length, ProducerNode = LocalNodeId, GeneratorCount = generatorCount, Refs = refs };
            }

            LocalStore.Put(id, bytes);
            location = LocalNodeId;
        }
        else
        {
            location = PutNode()
                ?? throw new ObjectStoreFullException($"No node is available to store object {id} of {bytes.Length:N0} bytes.");
            if (SameHostFolder(location) is not null)
            {
                await WriteSegmentAsync(location, id, bytes.Length, span => bytes.CopyTo(span)).ConfigureAwait(false);
            }
            else
            {
                await WriteChunksAsync(Node(location), id, bytes).ConfigureAwait(false);
            }
        }

        return new ObjectValue { Location = location, Size = bytes.Length, ProducerNode = LocalNodeId ?? location, GeneratorCount = generatorCount, Refs = refs };
    }

    /// <summary>
    /// The record of a copy already in this node's store under the same id: a task or actor call that ran again
    /// (a retry after a lost reply, a rebuild) made the same immutable object, so the first copy stands.
    /// </summary>
    private ObjectValue ExistingCopy(long size) => new() { Location = LocalNodeId, Size = size, ProducerNode = LocalNodeId };

    /// <summary>
    /// Serializes, stores and publishes a value to the directory now (a generator's yielded values, read by the
    /// consumer there). Refs inside it are held by it, as for any stored value.
    /// </summary>
    public async Task PublishValueAsync(ObjectId id, object? item, Type type, int generatorCount = 0)
    {
        var bytes = RefCapture.Serialize(Serializer, item, type, out var refs);
        var value = refs is null ? await StoreAsync(id, bytes, generatorCount).ConfigureAwait(false) : await StoreHoldingRefsAsync(id, bytes, refs).ConfigureAwait(false);
        await TransientRetry.RunAsync(() => Directory(id.TaskId).PublishAsync(id, value)).ConfigureAwait(false);
    }

    /// <summary>Waits until the object is ready (or failed); <see cref="GetTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<ObjectValue> WhenReadyAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (Owned.WhenReady(id) is { } owned)
        {
            return owned.IsCompleted ? owned.Result : await WaitOwnedAsync(owned, id, timeout, cancellationToken).ConfigureAwait(false);
        }

        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        var shard = Directory(id.TaskId);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var remaining = deadline == DateTime.MaxValue ? Options.LongPollInterval : deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                // One last look, so a zero timeout still returns an object that is already there.
                return await shard.TryGetAsync(id).ConfigureAwait(false) ?? throw new GetTimeoutException(id, timeout!.Value);
            }

            var wait = remaining < Options.LongPollInterval ? remaining : Options.LongPollInterval;
            ObjectValue? value;
            try
            {
                value = await shard.WaitAsync(id, wait, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // The shard's silo failed; Orleans activates it again elsewhere. Ask again after a pause.
                LogShardUnavailable(_logger, id, e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (value is not null)
            {
                MarkReady(id);
                return value;
            }
        }
    }

    /// <summary>Waits for an owned object's value, at most <paramref name="timeout"/> (then <see cref="GetTimeoutException"/>, saying why when its task cannot be placed).</summary>
    private async Task<ObjectValue> WaitOwnedAsync(Task<ObjectValue> owned, ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await (timeout is { } limit ? owned.WaitAsync(limit, cancellationToken) : owned.WaitAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw Infeasible.Why(id.TaskId) is { } why ? new GetTimeoutException(id, timeout!.Value, why) : new GetTimeoutException(id, timeout!.Value);
        }
    }

    /// <summary>
    /// Completes when every object of <paramref name="ids"/> that this process owns is ready (objects owned
    /// elsewhere are not waited for here); null when they all are already. A batch get waits on this once
    /// instead of running one chain of awaits per ref, then reads each value without waiting.
    /// </summary>
    /// <param name="ids">The objects.</param>
    /// <param name="locals">For each, the owned entry its ref holds, if any (read instead of a lookup by id).</param>
    public Task? WhenOwnedReady(IReadOnlyList<ObjectId> ids, IReadOnlyList<OwnedObjects.Entry?>? locals = null)
    {
        // The pending entries are counted in one countdown (no task per result); an entry another batch counts
        // already, or one freed meanwhile (looked up by id again), gets a wait of its own.
        ReadyCountdown? countdown = null;
        List<Task>? others = null;
        for (var i = 0; i < ids.Count; i++)
        {
            var local = locals?[i];
            if ((local ?? Owned.Find(ids[i])) is not { } entry || OwnedObjects.TryGetReady(entry, out _))
            {
                continue;
            }

            var counted = OwnedObjects.CountIn(entry, countdown ??= new ReadyCountdown());
            var wait = counted switch
            {
                OwnedObjects.Counted.Busy => OwnedObjects.WhenReady(entry),
                OwnedObjects.Counted.Freed when local is not null => Owned.WhenReady(ids[i]),
                _ => null,
            };

            if (wait is { IsCompleted: false })
            {
                (others ??= []).Add(wait);
            }
        }

        if (countdown is null)
        {
            return others is null ? null : Task.WhenAll(others);
        }

        countdown.Arm();
        if (others is null)
        {
            return countdown.Task.IsCompleted ? null : countdown.Task;
        }

        others.Add(countdown.Task);
        return Task.WhenAll(others);
    }

    /// <summary>
    /// The get of a ref that holds its owned entry, read through the entry (which may be out of the table, see
    /// <see cref="OwnedObjects.AddLocalRef"/>): a ready inline value, or a wait for a pending one. Null when the
    /// value is stored or failed, or the entry was freed; then the caller gets by id (such a value is never out of the table).
    /// </summary>
    public Task<object?>? TryGetOwned(OwnedObjects.Entry local, ObjectId id, Type type, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (OwnedObjects.TryGetReady(local, out var ready))
        {
            if (ready.Error is null && ready.Inline is { } inline)
            {
                var value = Deserialize(inline, type, out var borrowed);
                return borrowed ? AfterFlushAsync(value) : Task.FromResult(value);
            }

            return null;
        }

        if (OwnedObjects.WhenReady(local) is { IsCompleted: false } owned)
        {
            var get = timeout is null && !cancellationToken.CanBeCanceled
                ? GetOwnedAsync(owned, id, type)
                : GetOwnedAsync(WaitOwnedAsync(owned, id, timeout, cancellationToken), id, type, timeout, cancellationToken);
            return get.IsCompleted || WorkerContext.Current is not { } ctx ? get : ctx.WhileBlockedAsync(get);
        }

        return null;
    }

    /// <summary>
    /// The record of an owned object that is ready and held inline without an error (through <paramref name="local"/>,
    /// the entry its ref holds, when there is one); null otherwise. Such a record never changes.
    /// </summary>
    public ObjectValue? ReadyInlineRecord(ObjectId id, OwnedObjects.Entry? local) =>
        (local is not null ? OwnedObjects.TryGetReady(local, out var value) : Owned.TryGetReady(id, out value)) && value is { Error: null, Inline: not null }
            ? value
            : null;

    /// <summary>
    /// Reads a ready inline value through the owned entry a ref holds, without a task (a batch get's common case).
    /// False when the value is pending, stored, failed or freed: then the ref's own get handles it.
    /// <paramref name="borrowed"/> says the value holds refs whose holds must be flushed before it is handed out.
    /// </summary>
    public bool TryReadOwned(OwnedObjects.Entry local, Type type, out object? value, out bool borrowed)
    {
        if (OwnedObjects.TryGetReady(local, out var ready) && ready.Error is null && ready.Inline is { } inline)
        {
            value = Deserialize(inline, type, out borrowed);
            return true;
        }

        value = null;
        borrowed = false;
        return false;
    }

    /// <summary>Completes when object <paramref name="i"/> is ready, through the entry its ref holds when there is one; null when it is not owned here.</summary>
    private Task<ObjectValue>? WhenOwnedReady(IReadOnlyList<ObjectId> ids, IReadOnlyList<OwnedObjects.Entry?>? locals, int i) =>
        (locals?[i] is { } local ? OwnedObjects.WhenReady(local) : null) ?? Owned.WhenReady(ids[i]);

    /// <summary>
    /// Whether the object is known to be ready here without asking anyone: owned and ready (through
    /// <paramref name="local"/>, the entry its ref holds, when there is one), or seen ready before.
    /// </summary>
    public bool IsKnownReady(ObjectId id, OwnedObjects.Entry? local) =>
        local is not null && OwnedObjects.TryGetReady(local, out _) || Owned.TryGetReady(id, out _) || _seenReady.ContainsKey(id);

    /// <summary>Waits for the object and returns its value as <paramref name="type"/>, or throws its error.</summary>
    public Task<object?> GetAsync(ObjectId id, Type type, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        // An owned result is read through its entry: no wait and no task switch when it is inline and ready (the
        // common case of get after a call), one await on the entry when it is pending. Anything else takes the
        // general path, which handles objects owned elsewhere, stored copies and lost ones.
        if (Owned.Find(id) is { } entry && TryGetOwned(entry, id, type, timeout, cancellationToken) is { } owned)
        {
            return owned;
        }

        var get = GetSlowAsync(id, type, timeout, cancellationToken);
        return get.IsCompleted || WorkerContext.Current is not { } ctx ? get : ctx.WhileBlockedAsync(get);
    }

    private async Task<object?> GetOwnedAsync(Task<ObjectValue> owned, ObjectId id, Type type, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var value = await owned.ConfigureAwait(false);
        if (value.Error is null && value.Inline is { } inline)
        {
            var result = Deserialize(inline, type, out var borrowed);
            if (borrowed)
            {
                await Publisher.FlushAsync().ConfigureAwait(false);
            }

            return result;
        }

        using var bytes = await ReadOrRebuildAsync(id, value, timeout, cancellationToken).ConfigureAwait(false);
        return await DeserializeAsync(bytes.Memory, type).ConfigureAwait(false);
    }

    /// <summary>Waits for the object and returns its bytes (a lease on this node's store when it is here); dispose them when done.</summary>
    public Task<ObjectBytes> GetBytesAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var get = GetBytesCoreAsync(id, timeout, cancellationToken);
        return get.IsCompleted || WorkerContext.Current is not { } ctx ? get : ctx.WhileBlockedAsync(get);
    }

    private async Task<ObjectBytes> GetBytesCoreAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var value = await WhenReadyAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        return await ReadOrRebuildAsync(id, value, timeout, cancellationToken).ConfigureAwait(false);
    }

    private async Task<object?> GetSlowAsync(ObjectId id, Type type, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var value = await WhenReadyAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        using var bytes = await ReadOrRebuildAsync(id, value, timeout, cancellationToken).ConfigureAwait(false);
        return await DeserializeAsync(bytes.Memory, type).ConfigureAwait(false);
    }

    private async Task<object?> AfterFlushAsync(object? value)
    {
        await Publisher.FlushAsync().ConfigureAwait(false);
        return value;
    }

    /// <summary>
    /// Reads a ready object; when this process owns it and its stored copy is lost (its node died), makes it
    /// again by re-running its task and reads the new copy. An object that cannot be made again fails with
    /// <see cref="ObjectLostException"/> naming why and what created it.
    /// </summary>
    private async Task<ObjectBytes> ReadOrRebuildAsync(ObjectId id, ObjectValue value, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await ReadAsync(id, value, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectLostException e) when (value is { Error: null, Location: not null } && Owned.Owns(id))
            {
                if (Owned.TryRebuild(id, value, Rebuild, ResendForRebuild, out var why) == OwnedObjects.RebuildOutcome.Impossible)
                {
                    throw new ObjectLostException(id, $"{e.Reason} It cannot be made again: {why}.");
                }
            }
            catch (ObjectLostException) when (value is { Error: null, Location: not null } && !Owned.Owns(id))
            {
                if (!await Directory(id.TaskId).ReportLostAsync(id, value.Location).ConfigureAwait(false))
                {
                    throw;
                }

                // A borrower: the directory has the owner make it again (or records why it cannot); wait for that.
            }

            value = await WhenReadyAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The bytes of a ready object: inline, leased from this node's store (read in place), or pulled from
    /// its node in chunks; its error rethrown. Dispose the result when done reading.
    /// </summary>
    public async ValueTask<ObjectBytes> ReadAsync(ObjectId id, ObjectValue value, CancellationToken cancellationToken)
    {
        if (value.Error is { } error)
        {
            throw RayErrors.ToException(error);
        }

        if (value.Inline is { } inline)
        {
            return new ObjectBytes(inline);
        }

        var location = value.Location ?? throw new ObjectLostException(id, "its record has neither a value nor a location.");
        if (location == LocalNodeId && LocalStore is not null)
        {
            return LocalStore.TryAcquire(id, out var local)
                ? new ObjectBytes(LocalStore, local)
                : throw new ObjectLostException(id, $"it is not in the store of node {location}, which made it (freed, or the node restarted).");
        }

        if (SameHostFolder(location) is not null)
        {
            ObjectBytes? shared;
            try
            {
                shared = await MapSegmentAsync(location, id, value.Size).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not ObjectLostException and not OperationCanceledException)
            {
                throw new ObjectLostException(id, $"reading it from node {location} failed: {e.Message}");
            }

            if (shared is { } mapped)
            {
                return mapped;
            }
        }

        if (LocalStore is not null && LocalNodeId is not null)
        {
            // A node keeps what it pulls: a copy here, read in place, and a source for other nodes' pulls.
            if (LocalStore.TryAcquire(id, out var copy))
            {
                return new ObjectBytes(LocalStore, copy);
            }

            return await ReadThroughCopyAsync(id, value, location, cancellationToken).ConfigureAwait(false);
        }

        var result = GC.AllocateUninitializedArray<byte>(checked((int)value.Size));
        try
        {
            await PullChunksAsync(Node(location), id, value.Size, (at, part) => part.CopyTo(result.AsSpan((int)at)), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ObjectLostException and not OperationCanceledException)
        {
            throw new ObjectLostException(id, $"reading it from node {location} failed: {e.Message}");
        }

        return new ObjectBytes(result);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, Task> _pulling = new();

    /// <summary>
    /// Reads an object stored on another node by pulling a copy into this node's store: one pull per object
    /// however many readers here ask (the others wait for it and read the copy).
    /// </summary>
    private async Task<ObjectBytes> ReadThroughCopyAsync(ObjectId id, ObjectValue value, string location, CancellationToken cancellationToken)
    {
        while (true)
        {
            var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = _pulling.GetOrAdd(id, mine.Task);
            if (running != mine.Task)
            {
                await running.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (LocalStore!.TryAcquire(id, out var copy))
                {
                    return new ObjectBytes(LocalStore, copy);
                }

                continue; // that pull kept no copy (or failed): pull again, or fail with this reader's own error
            }

            try
            {
                return await PullCopyAsync(id, value, location, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _pulling.TryRemove(KeyValuePair.Create(id, (Task)mine.Task));
                mine.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Pulls an object into this node's store, from the source its primary node chooses (the primary, or a
    /// less busy node that pulled it already: a broadcast fans out), and reports the new copy. A source that
    /// fails is dropped and another chosen; a store too full for a copy reads into memory instead.
    /// </summary>
    private async Task<ObjectBytes> PullCopyAsync(ObjectId id, ObjectValue value, string location, CancellationToken cancellationToken)
    {
        var store = LocalStore!;
        var here = LocalNodeId!;
        var primary = Node(location);
        for (var attempt = 0; ; attempt++)
        {
            string source;
            var backoff = TimeSpan.FromMilliseconds(20);
            while (true)
            {
                PullSource answer;
                try
                {
                    answer = await primary.PickPullSourceAsync(id, here).ConfigureAwait(false)
                        ?? throw new ObjectLostException(id, $"it is not in the store of node {location}, which made it (freed, or the node restarted).");
                }
                catch (Exception e) when (e is not ObjectLostException and not OperationCanceledException)
                {
                    throw new ObjectLostException(id, $"reading it from node {location} failed: {e.Message}");
                }

                if (answer.Node is { } node)
                {
                    source = node;
                    break;
                }

                // Every source is busy: a copy in progress will be one more soon.
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 500));
            }

            StoredObject? stored = null;
            byte[]? inMemory = null;
            try
            {
                stored = store.Create(id, value.Size);
                stored.PulledFrom = source;
                stored.Primary = location;
            }
            catch (ObjectStoreFullException)
            {
                inMemory = GC.AllocateUninitializedArray<byte>(checked((int)value.Size));
            }

            try
            {
                await PullChunksAsync(Node(source), id, value.Size, stored is not null
                    ? (at, part) => part.CopyTo(stored.GetSpan()[(int)at..])
                    : (at, part) => part.CopyTo(inMemory.AsSpan((int)at)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                if (stored is not null)
                {
                    store.Remove(id);
                }

                var failed = e is not OperationCanceledException;
                Forget(() => primary.PullEndedAsync(id, source, null, sourceFailed: failed));
                if (!failed)
                {
                    throw;
                }

                if (source != location && attempt < 3)
                {
                    continue; // a copy that failed is dropped as a source: ask again
                }

                throw e as ObjectLostException ?? new ObjectLostException(id, $"reading it from node {source} failed: {e.Message}");
            }

            if (stored is null)
            {
                Forget(() => primary.PullEndedAsync(id, source, null, sourceFailed: false));
                return new ObjectBytes(inMemory!);
            }

            store.Seal(stored);
            var kept = false;
            try
            {
                kept = await primary.PullEndedAsync(id, source, here, sourceFailed: false).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The primary's node is gone: keep nothing that no one would free.
            }

            if (!store.TryAcquire(id, out var lease))
            {
                throw new ObjectLostException(id, $"its copy pulled to node {here} was freed before it could be read.");
            }

            if (kept)
            {
                Publisher.AddCopy(id, here);
            }
            else
            {
                store.Remove(id); // freed meanwhile: this read keeps its lease, and the copy goes after it
            }

            return new ObjectBytes(store, lease);
        }
    }

    /// <summary>Reads an object from a node in chunks under Orleans' message limit, a few in flight to keep the link busy.</summary>
    internal async Task PullChunksAsync(INodeGrain node, ObjectId id, long size, Action<long, byte[]> sink, CancellationToken cancellationToken)
    {
        var chunk = Options.ChunkSize;
        using var inFlight = new SemaphoreSlim(4);
        var reads = new List<Task>();
        for (long offset = 0; offset < size; offset += chunk)
        {
            await inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
            var at = offset;
            reads.Add(Task.Run(async () =>
            {
                try
                {
                    sink(at, await node.ReadObjectAsync(id, at, (int)Math.Min(chunk, size - at)).ConfigureAwait(false));
                }
                finally
                {
                    inFlight.Release();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
    }

    /// <summary>
    /// The folder of <paramref name="node"/>'s segments when this process runs on the same host and can
    /// reach it (a driver beside a silo): then large objects go through shared memory, not Orleans.
    /// </summary>
    private string? SameHostFolder(string node)
    {
        if (!Options.SameHostSharedMemory)
        {
            return null;
        }

        foreach (var report in Cluster.Reported)
        {
            if (report.NodeId == node)
            {
                return report.HostId == NodeObjectStore.HostId && report.ObjectStoreFolder is { } folder && System.IO.Directory.Exists(folder) ? folder : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Writes an object straight into a same-host node's store: the node reserves a segment (a pooled one when
    /// it has one, so the write pays no page faults), this process maps it and writes, and the node seals it.
    /// </summary>
    private async Task WriteSegmentAsync(string node, ObjectId id, long size, SpanAction write)
    {
        var grain = Node(node);
        var path = await grain.ReserveObjectAsync(id, size).ConfigureAwait(false);
        try
        {
            var segment = _mappings.Rent(path);
            try
            {
                write(segment.Span(0, checked((int)size)));
            }
            finally
            {
                _mappings.Return(path);
            }

            await grain.SealObjectAsync(id).ConfigureAwait(false);
        }
        catch
        {
            Forget(() => grain.FreeObjectsAsync([id]));
            throw;
        }
    }

    private delegate void SpanAction(Span<byte> target);

    /// <summary>
    /// Maps an object's segment file from a same-host node under a lease, to read it in place; the lease ends
    /// (and the mapping goes) when the bytes are disposed. Null when the node no longer has it.
    /// </summary>
    private async Task<ObjectBytes?> MapSegmentAsync(string node, ObjectId id, long size)
    {
        var grain = Node(node);
        if (await grain.BeginObjectLeaseAsync(id).ConfigureAwait(false) is not { } path)
        {
            return null;
        }

        try
        {
            var segment = _mappings.Rent(path);
            var view = new StoredObject(id, segment, size);
            var released = 0;
            return new ObjectBytes(view.Memory, () =>
            {
                if (Interlocked.Exchange(ref released, 1) == 0)
                {
                    _mappings.Return(path);
                    Forget(() => grain.EndObjectLeaseAsync(id));
                }
            });
        }
        catch
        {
            Forget(() => grain.EndObjectLeaseAsync(id));
            throw;
        }
    }

    private async Task WriteChunksAsync(INodeGrain node, ObjectId id, byte[] bytes)
    {
        var chunk = Options.ChunkSize;
        var writes = new List<Task>();
        for (long offset = 0; offset < bytes.Length; offset += chunk)
        {
            var part = bytes.AsSpan((int)offset, (int)Math.Min(chunk, bytes.Length - offset)).ToArray();
            writes.Add(node.WriteObjectAsync(id, bytes.Length, offset, part));
            if (writes.Count >= 4)
            {
                await Task.WhenAll(writes).ConfigureAwait(false);
                writes.Clear();
            }
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>
    /// Ray's wait: returns once <paramref name="numReturns"/> of the objects are ready or the timeout passes,
    /// as the indexes of ready and not-ready ones, each in argument order.
    /// </summary>
    /// <param name="ids">The objects.</param>
    /// <param name="numReturns">How many ready ones end the wait.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <param name="locals">For each object, the owned entry its ref holds, if any (read instead of a lookup by id).</param>
    public async Task<(int[] Ready, int[] NotReady)> WaitAsync(IReadOnlyList<ObjectId> ids, int numReturns, TimeSpan? timeout, CancellationToken cancellationToken,
        IReadOnlyList<OwnedObjects.Entry?>? locals = null)
    {
        if (numReturns < 0 || numReturns > ids.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(numReturns), numReturns, $"numReturns must be between 0 and the number of refs ({ids.Count}).");
        }

        // Only the first numReturns ready refs (in argument order) are returned as ready, so the scan stops
        // there: Ray's wait loop over a shrinking list, whose head is usually ready, costs O(1) checks a call.
        var ready = new bool[ids.Count];
        var count = 0;
        var scanned = 0;
        for (; scanned < ids.Count && count < numReturns; scanned++)
        {
            if (IsKnownReady(ids[scanned], locals?[scanned]))
            {
                ready[scanned] = true;
                count++;
            }
        }

        if (count == numReturns - 1 && timeout is null && !cancellationToken.CanBeCanceled)
        {
            // One more ready ref and no limit on the wait (Ray's loop of waits for one ready ref at a time):
            // Task.WhenAny registers one completion action per pending object and takes it off the others when
            // the first completes, where a continuation with its own cancellation per object made a few hundred
            // bytes of garbage per pending ref and wait. Without a limit the wait ends only by that completion,
            // so nothing is left registered on objects still pending (with a timeout the general path below does).
            await WaitForOneMoreAsync(ids, locals, ready).ConfigureAwait(false);
        }
        else if (count < numReturns)
        {
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Cancelled when the wait ends: it takes this wait's continuations off the objects still pending, so
            // a loop of waits over the same refs does not pile continuations on them.
            using var done = new CancellationTokenSource();
            for (var i = 0; i < ids.Count; i++)
            {
                if (ready[i])
                {
                    continue;
                }

                var index = i;
                var whenReady = WhenOwnedReady(ids, locals, i) ?? SharedPoll(ids[i]);
                if (whenReady.IsCompletedSuccessfully)
                {
                    Volatile.Write(ref ready[index], true);
                    if (Interlocked.Increment(ref count) >= numReturns)
                    {
                        break;
                    }

                    continue;
                }

                _ = whenReady.ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        Volatile.Write(ref ready[index], true);
                        if (Interlocked.Increment(ref count) >= numReturns)
                        {
                            all.TrySetResult();
                        }
                    }
                }, done.Token, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            try
            {
                if (Volatile.Read(ref count) < numReturns)
                {
                    var wait = timeout is { } t ? all.Task.WaitAsync(t, cancellationToken) : all.Task.WaitAsync(cancellationToken);
                    await (WorkerContext.Current is { } ctx ? ctx.WhileBlockedAsync(Wrap(wait)) : wait).ConfigureAwait(false);
                }
            }
            catch (TimeoutException)
            {
            }
            finally
            {
                done.Cancel();
            }
        }

        // Ray returns at most numReturns ready refs; the rest, ready or not, go in the second list.
        var readyList = new List<int>(numReturns);
        var notReady = new List<int>(ids.Count - Math.Min(numReturns, ids.Count));
        for (var i = 0; i < ids.Count; i++)
        {
            if (Volatile.Read(ref ready[i]) && readyList.Count < numReturns)
            {
                readyList.Add(i);
            }
            else
            {
                notReady.Add(i);
            }
        }

        return (readyList.ToArray(), notReady.ToArray());

        static async Task<bool> Wrap(Task t)
        {
            await t.ConfigureAwait(false);
            return true;
        }
    }

    /// <summary>Marks the first of the not-ready objects of <paramref name="ids"/> that becomes ready (failed waits for an object are skipped).</summary>
    private async Task WaitForOneMoreAsync(IReadOnlyList<ObjectId> ids, IReadOnlyList<OwnedObjects.Entry?>? locals, bool[] ready)
    {
        List<Task<ObjectValue>>? pending = null;
        List<int>? indexes = null;
        for (var i = 0; i < ids.Count; i++)
        {
            if (ready[i])
            {
                continue;
            }

            var whenReady = WhenOwnedReady(ids, locals, i) ?? SharedPoll(ids[i]);
            if (whenReady.IsCompletedSuccessfully)
            {
                ready[i] = true;
                return;
            }

            if (!whenReady.IsCompleted)
            {
                (pending ??= []).Add(whenReady);
                (indexes ??= []).Add(i);
            }
        }

        while (pending is { Count: > 0 })
        {
            var any = Task.WhenAny(pending);
            var first = await (WorkerContext.Current is { } ctx ? ctx.WhileBlockedAsync(any) : any).ConfigureAwait(false);
            var k = pending.IndexOf(first);
            if (first.IsCompletedSuccessfully)
            {
                ready[indexes![k]] = true;
                return;
            }

            pending.RemoveAt(k); // its wait failed (as the general path, such an object is never counted ready)
            indexes!.RemoveAt(k);
        }
    }

    /// <summary>
    /// One long poll per object however many waits ask for it: repeated waits over the same refs (Ray's
    /// wait loop) share it instead of each parking its own grain call. It runs until the object is ready.
    /// </summary>
    private Task<ObjectValue> SharedPoll(ObjectId id)
    {
        if (_polls.TryGetValue(id, out var existing))
        {
            return existing;
        }

        var started = new TaskCompletionSource<ObjectValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_polls.TryAdd(id, started.Task))
        {
            return _polls[id];
        }

        _ = WhenReadyAsync(id, null, CancellationToken.None).ContinueWith(t =>
        {
            _polls.TryRemove(id, out _);
            if (t.IsCompletedSuccessfully)
            {
                started.TrySetResult(t.Result);
            }
            else
            {
                started.TrySetException(t.Exception!.InnerExceptions);
            }
        }, TaskScheduler.Default);
        return started.Task;
    }

    /// <summary>Remembers that an object owned elsewhere is ready (ids only; bounded), so waits over it need no grain call.</summary>
    private void MarkReady(ObjectId id)
    {
        if (_seenReady.Count >= SeenReadyLimit)
        {
            _seenReady.Clear(); // a cache: forgetting only costs a grain call on the next wait
        }

        _seenReady.TryAdd(id, 0);
    }
}
