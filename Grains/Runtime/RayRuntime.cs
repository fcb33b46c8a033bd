using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Serialization;

namespace RayOrleans.Runtime;

/// <summary>
/// The engine under the public API, the same in a driver and on a node: submits tasks and actor calls to
/// the chosen grains, publishes and reads objects through the directory, and waits for them. A driver has
/// one; each silo has one for the tasks it runs (their nested calls go through it).
/// </summary>
internal sealed partial class RayRuntime
{
    private readonly IObjectDirectoryGrain[] _shards;
    private readonly ILogger _logger;

    public RayRuntime(IGrainFactory grains, ClusterView cluster, RuntimeOptions options, NodeObjectStore? localStore, string? localNodeId, ILogger logger)
    {
        options.Validate();
        Grains = grains;
        Cluster = cluster;
        Options = options;
        LocalStore = localStore;
        LocalNodeId = localNodeId;
        _logger = logger;
        _shards = Enumerable.Range(0, options.DirectoryShards).Select(i => grains.GetGrain<IObjectDirectoryGrain>(i)).ToArray();
        InFlight = new InFlightTasks(this, logger);
    }

    public IGrainFactory Grains { get; }

    public ClusterView Cluster { get; }

    public RuntimeOptions Options { get; }

    public ObjectSerializer Serializer { get; } = ObjectSerializer.Instance;

    /// <summary>The node this runtime lives on; null in an external driver.</summary>
    public string? LocalNodeId { get; }

    public NodeObjectStore? LocalStore { get; }

    /// <summary>The public API object over this runtime (set by the client library), so nested code reuses it.</summary>
    public object? Facade { get; set; }

    public IObjectDirectoryGrain Directory(Guid taskId) => _shards[(uint)taskId.GetHashCode() % (uint)_shards.Length];

    public INodeGrain Node(string nodeId) => Grains.GetGrain<INodeGrain>(nodeId);

    // ---------------------------------------------------------------- tasks

    /// <summary>Sends a task to the least-loaded node that can hold it; returns at once. A send that fails becomes the task's error.</summary>
    public void SubmitTask(TaskSpec spec, bool retry = false)
    {
        if (!retry)
        {
            WorkerContext.Current?.Children.Enqueue(spec.TaskId);
        }

        var node = Cluster.PickNode(spec.Resources, LocalNodeId, forActor: false);
        if (node is not null)
        {
            SubmitTo(spec, node);
        }
        else if (Cluster.Nodes.Count == 0 || retry)
        {
            // An empty view is a cluster between states (its view grain moving after a node died), not
            // an answer: wait for nodes to report before calling the task infeasible.
            _ = SubmitWhenANodeFitsAsync(spec);
        }
        else
        {
            _ = PublishInfeasibleAsync(spec);
        }
    }

    private async Task SubmitWhenANodeFitsAsync(TaskSpec spec)
    {
        var deadline = DateTime.UtcNow + NodeWaitLimit;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(100).ConfigureAwait(false);
            if (Cluster.PickNode(spec.Resources, LocalNodeId, forActor: false) is { } node)
            {
                SubmitTo(spec, node);
                return;
            }
        }

        await PublishInfeasibleAsync(spec).ConfigureAwait(false);
    }

    /// <summary>How long a task waits for a fitting node to appear in an empty or shrunken view.</summary>
    private static readonly TimeSpan NodeWaitLimit = TimeSpan.FromSeconds(30);

    private Task PublishInfeasibleAsync(TaskSpec spec) =>
        PublishErrorAsync(spec.TaskId, spec.NumReturns, spec.IsGenerator, SystemError(spec.TaskId, spec.Name,
            "RayOrleans.InfeasibleTask", $"No node can ever run task '{spec.Name}': {Cluster.DescribeInfeasible(spec.Resources)}."));

    /// <summary>Sends a task to a given node, and remembers it there until it finishes, to send it again if that node dies.</summary>
    public void SubmitTo(TaskSpec spec, string node)
    {
        InFlight.Track(spec, node);
        var send = Node(node).SubmitAsync(spec);
        if (send.IsCompletedSuccessfully)
        {
            return;
        }

        send.ContinueWith(
            async t =>
            {
                var e = t.Exception!.GetBaseException();
                if (e is OrleansMessageRejectionException)
                {
                    // The message never reached the node (it is going away): choose a node again.
                    await Task.Delay(200).ConfigureAwait(false);
                    SubmitTask(spec, retry: true);
                    return;
                }

                LogSubmitFailed(_logger, spec.Name, spec.TaskId, e);
                await PublishErrorAsync(spec.TaskId, spec.NumReturns, spec.IsGenerator, RayErrors.FromException(e, spec.Name, spec.TaskId, null)).ConfigureAwait(false);
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Tasks sent from here and not yet finished.</summary>
    public InFlightTasks InFlight { get; }

    /// <summary>Stops the background work of this runtime.</summary>
    public ValueTask StopAsync() => InFlight.DisposeAsync();

    public void ObserveSend(Task send, Guid taskId, int numReturns, bool isGenerator, string name)
    {
        if (send.IsCompletedSuccessfully)
        {
            return;
        }

        send.ContinueWith(
            (t, _) =>
            {
                var e = t.Exception!.GetBaseException();
                LogSubmitFailed(_logger, name, taskId, e);
                return PublishErrorAsync(taskId, numReturns, isGenerator, RayErrors.FromException(e, name, taskId, null));
            },
            null, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Cancels a task wherever it is queued or running.</summary>
    public async Task<bool> CancelAsync(Guid taskId, bool force, bool recursive)
    {
        // The owner does not track where each task went (that table is what the fault-tolerance work adds),
        // so the cancel goes to every node; each ignores ids it does not have.
        var nodes = Cluster.Nodes;
        var found = await Task.WhenAll(nodes.Select(n => Node(n.NodeId).CancelAsync(taskId, force, recursive))).ConfigureAwait(false);
        return found.Any(f => f);
    }

    // ---------------------------------------------------------------- actors

    public IActorGrain Actor(ActorId id) => Grains.GetGrain<IActorGrain>(id.Value);

    /// <summary>
    /// Sends an actor's creation to the least-loaded node whose resources fit it. The chosen node rides in
    /// the request context to the placement director, since the activation request does not carry the demand.
    /// </summary>
    public async Task CreateActorAsync(ActorSpec spec)
    {
        var node = Cluster.PickNode(spec.Resources, preferred: null, forActor: true);
        Task<string> create;
        if (node is null)
        {
            // No node fits: create it anyway without a hint, so its grain records the death with the
            // reason and every call fails with ActorDiedException instead of waiting.
            create = Actor(spec.ActorId).CreateAsync(spec);
        }
        else
        {
            RequestContext.Set(Placement.LeastLoadedPlacementDirector.NodeHintKey, node);
            try
            {
                create = Actor(spec.ActorId).CreateAsync(spec);
            }
            finally
            {
                RequestContext.Remove(Placement.LeastLoadedPlacementDirector.NodeHintKey);
            }
        }

        // The creator keeps the spec while the actor lives, to build it again if its node dies.
        InFlight.TrackActor(spec, await create.ConfigureAwait(false));
    }

    /// <summary>Kills an actor; the creator stops watching it, or counts the restart a kill without noRestart makes.</summary>
    public Task KillActorAsync(ActorId actor, bool noRestart)
    {
        InFlight.ActorKilled(actor.Value, noRestart);
        return Actor(actor).KillAsync(noRestart);
    }

    public void SubmitActorCall(ActorId actor, ActorCall call, bool retry = false)
    {
        if (!retry)
        {
            WorkerContext.Current?.Children.Enqueue(call.CallId);
            InFlight.TrackActorCall(actor, call);
        }

        var send = Actor(actor).SubmitAsync(call);
        send.ContinueWith(
            (t, state) =>
            {
                var (runtime, c) = ((RayRuntime, ActorCall))state!;
                if (t.IsCompletedSuccessfully)
                {
                    runtime.InFlight.SetNode(c.CallId, t.Result);
                    return Task.CompletedTask;
                }

                var e = t.Exception!.GetBaseException();
                LogSubmitFailed(runtime._logger, c.Name, c.CallId, e);
                return runtime.PublishErrorAsync(c.CallId, 1, false, RayErrors.FromException(e, c.Name, c.CallId, null));
            },
            (this, call), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // ---------------------------------------------------------------- objects

    /// <summary>Serializes and stores a value; returns once it is readable anywhere.</summary>
    public async Task<ObjectId> PutAsync(object? value, Type type)
    {
        var id = ObjectId.NewPut();
        await PublishValueAsync(id, Serializer.Serialize(value, type)).ConfigureAwait(false);
        return id;
    }

    /// <summary>Stores serialized bytes: inline in the directory when small, else in a node's store.</summary>
    public async Task PublishValueAsync(ObjectId id, byte[] bytes, int generatorCount = 0)
    {
        if (bytes.Length <= Options.InlineThreshold)
        {
            var inline = new ObjectValue { Inline = bytes, Size = bytes.Length, ProducerNode = LocalNodeId, GeneratorCount = generatorCount };
            await TransientRetry.RunAsync(() => Directory(id.TaskId).PublishAsync(id, inline)).ConfigureAwait(false);
            return;
        }

        string location;
        if (LocalStore is not null && LocalNodeId is not null)
        {
            LocalStore.Put(id, bytes);
            location = LocalNodeId;
        }
        else
        {
            location = Cluster.PickNode(ResourceSet.Empty, null, forActor: false)
                ?? throw new ObjectStoreFullException($"No node is available to store object {id} of {bytes.Length:N0} bytes.");
            await WriteChunksAsync(Node(location), id, bytes).ConfigureAwait(false);
        }

        var stored = new ObjectValue { Location = location, Size = bytes.Length, ProducerNode = LocalNodeId ?? location, GeneratorCount = generatorCount };
        await TransientRetry.RunAsync(() => Directory(id.TaskId).PublishAsync(id, stored)).ConfigureAwait(false);
    }

    public Task PublishErrorAsync(Guid taskId, int numReturns, bool isGenerator, RayErrorInfo error)
    {
        var value = new ObjectValue { Error = error, ProducerNode = LocalNodeId };
        // A generator's failure ends its stream: the end record (index 0) carries the error.
        var ids = isGenerator ? [new ObjectId(taskId, 0)] : Enumerable.Range(1, Math.Max(numReturns, 1)).Select(i => new ObjectId(taskId, i));
        var records = ids.Select(id => KeyValuePair.Create(id, value)).ToArray();
        return TransientRetry.RunAsync(() => Directory(taskId).PublishManyAsync(records)).AsTask();
    }

    /// <summary>Waits until the object is ready (or failed); <see cref="GetTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<ObjectValue> WhenReadyAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
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
                // The shard's silo failed; Orleans activates it again elsewhere. Ask again after a pause,
                // so a task resubmitted after a node death can publish there.
                LogShardUnavailable(_logger, id, e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (value is not null)
            {
                // Seen finished: it must not be run again if its directory shard is later lost with a node.
                MarkReady(id);
                return value;
            }
        }
    }

    /// <summary>Waits for the object and returns its value as <paramref name="type"/>, or throws its error.</summary>
    public async Task<object?> GetAsync(ObjectId id, Type type, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var bytes = await GetBytesAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        return Serializer.Deserialize(bytes, type);
    }

    public Task<byte[]> GetBytesAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var fetch = FetchAsync(id, timeout, cancellationToken);
        return WorkerContext.Current is { } ctx ? ctx.WhileBlockedAsync(fetch) : fetch;
    }

    private async Task<byte[]> FetchAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var value = await WhenReadyAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        if (value.Error is { } error)
        {
            throw RayErrors.ToException(error);
        }

        return await ReadAsync(id, value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The bytes of a ready object: inline, from this node's store, or pulled from its node in chunks.</summary>
    public async Task<byte[]> ReadAsync(ObjectId id, ObjectValue value, CancellationToken cancellationToken)
    {
        if (value.Inline is { } inline)
        {
            return inline;
        }

        var location = value.Location ?? throw new ObjectLostException(id, "its record has neither a value nor a location.");
        if (location == LocalNodeId && LocalStore is not null && LocalStore.TryGet(id, out var local))
        {
            return local;
        }

        var node = Node(location);
        var size = checked((int)value.Size);
        var result = GC.AllocateUninitializedArray<byte>(size);
        var chunk = Options.ChunkSize;
        // A few chunks in flight keep the link busy without asking the source for the whole object at once.
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
                    var part = await node.ReadObjectAsync(id, at, (int)Math.Min(chunk, size - at)).ConfigureAwait(false);
                    part.CopyTo(result.AsSpan((int)at));
                }
                finally
                {
                    inFlight.Release();
                }
            }, cancellationToken));
        }

        try
        {
            await Task.WhenAll(reads).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ObjectLostException and not OperationCanceledException)
        {
            throw new ObjectLostException(id, $"reading it from node {location} failed: {e.Message}");
        }

        return result;
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
    public async Task<(int[] Ready, int[] NotReady)> WaitAsync(IReadOnlyList<ObjectId> ids, int numReturns, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (numReturns < 0 || numReturns > ids.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(numReturns), numReturns, $"numReturns must be between 0 and the number of refs ({ids.Count}).");
        }

        var ready = new bool[ids.Count];
        var count = 0;
        for (var i = 0; i < ids.Count; i++)
        {
            if (_seenReady.ContainsKey(ids[i]))
            {
                ready[i] = true;
                count++;
            }
        }

        if (count < numReturns)
        {
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            for (var i = 0; i < ids.Count; i++)
            {
                if (ready[i])
                {
                    continue;
                }

                var index = i;
                _ = SharedPoll(ids[i]).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        Volatile.Write(ref ready[index], true);
                        if (Interlocked.Increment(ref count) >= numReturns)
                        {
                            all.TrySetResult();
                        }
                    }
                }, TaskScheduler.Default);
            }

            try
            {
                var wait = timeout is { } t ? all.Task.WaitAsync(t, cancellationToken) : all.Task.WaitAsync(cancellationToken);
                await (WorkerContext.Current is { } ctx ? ctx.WhileBlockedAsync(Wrap(wait)) : wait).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        // Ray returns at most numReturns ready refs; the rest, ready or not, go in the second list.
        var readyList = new List<int>(numReturns);
        var notReady = new List<int>();
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

    /// <summary>
    /// The error to publish for a failed task or call: what user code (or a dependency) threw keeps its
    /// type and stack; a failure of the runtime before the code ran (function not found, arguments that
    /// do not deserialize) is a system error naming what was wrong.
    /// </summary>
    public static RayErrorInfo DescribeFailure(Exception e, bool inUserCode, string name, Guid id, string? node) =>
        inUserCode || e is RayException
            ? RayErrors.FromException(e, name, id, node)
            : SystemError(id, name, e.GetType().FullName!, e.Message);

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

    /// <summary>Remembers that an object is ready (ids only; bounded), so waits over it need no grain call.</summary>
    private void MarkReady(ObjectId id)
    {
        if (_seenReady.Count >= SeenReadyLimit)
        {
            _seenReady.Clear(); // a cache: forgetting only costs a grain call on the next wait
        }

        _seenReady.TryAdd(id, 0);
        InFlight.Observed(id);
    }

    private const int SeenReadyLimit = 1_000_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, byte> _seenReady = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, Task<ObjectValue>> _polls = new();

    public static RayErrorInfo SystemError(Guid taskId, string name, string type, string message) => new()
    {
        Kind = RayErrorKind.SystemError, ExceptionType = type, Message = message, TaskName = name, TaskId = taskId,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "The directory shard of {Id} is unavailable; asking again.")]
    private static partial void LogShardUnavailable(ILogger logger, ObjectId id, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Submitting '{Name}' ({TaskId}) failed; its result becomes the error.")]
    private static partial void LogSubmitFailed(ILogger logger, string name, Guid taskId, Exception exception);
}
