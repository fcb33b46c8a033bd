using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Serialization;

namespace RayOrleans.Runtime;

/// <summary>
/// The engine under the public API, the same in a driver and on a node. It owns what it submits: a task or
/// actor call goes to its node or actor as one grain call whose reply carries the result into this
/// runtime's <see cref="OwnedObjects"/> (RayRuntime.Tasks.cs, RayRuntime.Actors.cs); objects are read from
/// there, or through the object directory when another process owns them (RayRuntime.Objects.cs). A driver
/// has one; each silo has one for the tasks it runs (their nested calls go through it).
/// </summary>
internal sealed partial class RayRuntime
{
    /// <summary>Every runtime of this process, so a ref written into a value escapes from whichever owns it.</summary>
    private static readonly ConcurrentDictionary<RayRuntime, byte> Live = new();

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
        Id = $"{localNodeId ?? "driver"}/{Guid.NewGuid():N}";
        Publisher = new DirectoryPublisher(this, logger);
        Owned = new OwnedObjects(Publisher, Id, FreeStored, OwnerReference);
        Hosted = new HostedHolds(Publisher);
        Owned.ActorRebuildable = ActorRebuildable;
        InFlight = new InFlightTasks(this, logger);
        Infeasible = new InfeasibleWork(this, logger);
        Live.TryAdd(this, 0);
        cluster.NodesLeft += OnNodesLeft;
    }

    /// <summary>This runtime's id: its node (or "driver") and a unique suffix. Names it as an owner and holder in the directory.</summary>
    public string Id { get; }

    public IGrainFactory Grains { get; }

    public ClusterView Cluster { get; }

    public RuntimeOptions Options { get; }

    public ObjectSerializer Serializer { get; } = ObjectSerializer.Instance;

    /// <summary>The node this runtime lives on; null in an external driver.</summary>
    public string? LocalNodeId { get; }

    public NodeObjectStore? LocalStore { get; }

    /// <summary>The objects this runtime owns: results of what it submitted, and its puts.</summary>
    public OwnedObjects Owned { get; }

    /// <summary>The holds of the actors and handed-off tasks living here, which this runtime re-publishes after a node died.</summary>
    public HostedHolds Hosted { get; }

    /// <summary>Publishes owned objects to the directory when refs to them escape, in batches.</summary>
    public DirectoryPublisher Publisher { get; }

    /// <summary>Tasks, actor calls and actors sent from here and not yet finished (for retries on node death).</summary>
    public InFlightTasks InFlight { get; }

    /// <summary>Tasks and actors held back because no node can ever run them, until one that can joins.</summary>
    public InfeasibleWork Infeasible { get; }

    /// <summary>
    /// The job of the work this runtime submits outside any task (a driver's job id; empty on a node, whose
    /// own work belongs to the job of the task that submits it).
    /// </summary>
    public string JobId { get; set; } = "";

    /// <summary>
    /// The code package this driver shipped to the cluster (its own assemblies), which the work it submits
    /// runs from; null when the nodes have the code themselves (embedded clusters, <c>--code-dir</c>).
    /// </summary>
    public CodePackage? Code { get; set; }

    /// <summary>The code new work runs from: the running task's or actor's, else this runtime's.</summary>
    public CodePackage? CurrentCode => WorkerContext.Current is { } worker ? worker.Code : Code;

    /// <summary>The job new work belongs to: the running task's or actor's, else this runtime's.</summary>
    public string CurrentJobId => WorkerContext.Current?.JobId ?? JobId;

    /// <summary>Ends of attempts this runtime decides as an owner (lost with a node, cancelled before leaving), for the state API.</summary>
    public OwnerTaskEvents OwnerEvents => LazyInitializer.EnsureInitialized(ref _ownerEvents, () => new OwnerTaskEvents(this, _logger));

    /// <summary>Sends the owner's buffered task events now (a driver's exit).</summary>
    public Task FlushOwnerEventsAsync() => Volatile.Read(ref _ownerEvents)?.FlushAsync() ?? Task.CompletedTask;

    private OwnerTaskEvents? _ownerEvents;

    /// <summary>Sends the output of the tasks this process runs to their jobs' drivers.</summary>
    public Logs.TaskLogForwarder TaskLogs => LazyInitializer.EnsureInitialized(ref _taskLogs, () => new Logs.TaskLogForwarder(this, _logger));

    private Logs.TaskLogForwarder? _taskLogs;

    /// <summary>The public API object over this runtime (set by the client library), so nested code reuses it.</summary>
    public object? Facade { get; set; }

    public IObjectDirectoryGrain Directory(Guid taskId) => _shards[(uint)taskId.GetHashCode() % (uint)_shards.Length];

    /// <summary>
    /// The scheduler of the node this runtime lives on, when it lives on one: a task for this node is handed
    /// to it directly, as Ray's core worker hands work to its local raylet, not sent as a grain call.
    /// </summary>
    public LocalScheduler? LocalScheduler { get; set; }

    // Grain references are kept: GetGrain resolves the interface type by reflection, about as dear as a call.
    public INodeGrain Node(string nodeId) => _nodes.GetOrAdd(nodeId, static (id, grains) => grains.GetGrain<INodeGrain>(id), Grains);

    public IActorGrain Actor(ActorId id) => Grains.GetGrain<IActorGrain>(id.Value);

    private readonly ConcurrentDictionary<string, INodeGrain> _nodes = new(StringComparer.Ordinal);

    private ObjectOwnerEndpoint? _ownerEndpoint;
    private IObjectOwner? _ownerReference;
    private int _ownerReferenceTried;

    /// <summary>
    /// How the directory reaches this runtime as the owner of objects it shared (made on first use, kept for
    /// the runtime's life: observers are held weakly); null where observers cannot be made.
    /// </summary>
    public IObjectOwner? OwnerReference()
    {
        if (Volatile.Read(ref _ownerReference) is { } made)
        {
            return made;
        }

        if (Interlocked.Exchange(ref _ownerReferenceTried, 1) == 1)
        {
            return Volatile.Read(ref _ownerReference); // another thread is making it (or could not)
        }

        try
        {
            _ownerEndpoint = new ObjectOwnerEndpoint(this);
            Volatile.Write(ref _ownerReference, Grains.CreateObjectReference<IObjectOwner>(_ownerEndpoint));
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or OrleansException)
        {
            LogNoOwnerReference(_logger, e);
        }

        return _ownerReference;
    }

    /// <summary>
    /// A borrower found the copy of an object this runtime owns lost (the directory asks): makes it again from
    /// its lineage, or re-publishes it when it was made again already. Null when it is (being) made, else why not.
    /// </summary>
    public string? RebuildForBorrower(ObjectId id, string? lostLocation)
    {
        if (!Owned.TryGetReady(id, out var current))
        {
            return Owned.Owns(id) ? null : $"its owner ({Id}) no longer has its lineage";
        }

        if (current.Location != lostLocation)
        {
            Publisher.Publish(id, current); // made again meanwhile: the directory takes the new record
            return null;
        }

        return Owned.TryRebuild(id, current, Rebuild, ResendForRebuild, out var why) == OwnedObjects.RebuildOutcome.Started ? null : $"its copy on node {lostLocation} was lost and it cannot be made again: {why}";
    }

    /// <summary>
    /// A ref to <paramref name="id"/> is being written into a value: whichever runtime here owns it publishes
    /// it, and the serialization that captures escapes (<see cref="RefCapture"/>) records it as contained.
    /// </summary>
    public static void Escape(ObjectId id)
    {
        RefCapture.Add(id);
        foreach (var runtime in Live.Keys)
        {
            runtime.Owned.Escape(id);
        }
    }

    /// <summary>
    /// Deserializes a value read through this runtime: refs inside it are bound to this runtime, so they
    /// resolve here whether or not a driver is registered as <c>Ray.Current</c> in this process.
    /// <paramref name="borrowed"/> says whether it holds refs this process had not held before; their
    /// holder registrations are queued, and the caller flushes them (<see cref="DirectoryPublisher.FlushAsync"/>)
    /// before the refs can travel on, so the directory counts this process before the value's holder lets go.
    /// </summary>
    public object? Deserialize(ReadOnlySpan<byte> bytes, Type type, out bool borrowed)
    {
        var outer = Reading;
        var before = OwnedObjects.NewBorrows;
        Reading = this;
        try
        {
            return Serializer.Deserialize(bytes, type);
        }
        finally
        {
            Reading = outer;
            borrowed = OwnedObjects.NewBorrows != before;
        }
    }

    /// <summary>Deserializes, then waits until the directory counts any new borrowed refs inside the value.</summary>
    public async ValueTask<object?> DeserializeAsync(ReadOnlyMemory<byte> bytes, Type type)
    {
        var value = Deserialize(bytes.Span, type, out var borrowed);
        if (borrowed)
        {
            await Publisher.FlushAsync().ConfigureAwait(false);
        }

        return value;
    }

    /// <summary>The runtime deserializing on this thread (deserialization is synchronous), for refs read inside values.</summary>
    [ThreadStatic]
    public static RayRuntime? Reading;

    /// <summary>
    /// Stops the background work of this runtime and lets go of what it holds: its objects that never left
    /// it are freed; those others hold stay, as the directory counts them (an owner's exit loses nothing
    /// that is still referenced). An escaped result still being made is handed to the node running its task,
    /// which publishes it when done; one that cannot be handed on (not sent yet, an actor call's) fails for
    /// its readers with <see cref="ObjectLostException"/>, since its value would have come here.
    /// </summary>
    public async ValueTask StopAsync()
    {
        Live.TryRemove(this, out _);
        StopRepublishing();
        var pending = Owned.PendingEscaped();
        if (pending.Count > 0)
        {
            await HandOffAsync(pending).ConfigureAwait(false);
        }

        Owned.LetGo();
        await InFlight.DisposeAsync().ConfigureAwait(false);
        await Infeasible.DisposeAsync().ConfigureAwait(false);
        await Publisher.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops this runtime as a crashed process would: nothing is let go or handed on, and the directory is
    /// not told (for tests of what a driver's death leaves behind).
    /// </summary>
    public async ValueTask AbandonAsync()
    {
        Live.TryRemove(this, out _);
        StopRepublishing();
        Owned.Stop();
        await InFlight.DisposeAsync().ConfigureAwait(false);
        await Infeasible.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Hands escaped results still being made to the nodes running their tasks (see <see cref="StopAsync"/>).
    /// Their arguments are kept for them: each ref argument (and ref inside a value argument) gets a hold that
    /// the node lets go of when the task ends, and the directory checks that node, not this owner, while
    /// readers wait. What cannot be handed on waits a moment for a reply on its way, then fails.
    /// </summary>
    private async Task HandOffAsync(List<ObjectId> pending)
    {
        var tasks = pending.Select(id => id.TaskId).Distinct().Select(t => (Task: t, Node: InFlight.NodeOf(t), Spec: InFlight.SpecOf(t))).ToList();
        foreach (var (task, node, spec) in tasks)
        {
            if (node is not null && spec is not null)
            {
                HoldArguments(spec, add: true);
            }
        }

        await Publisher.FlushAsync().ConfigureAwait(false);
        var handed = new HashSet<Guid>();
        await Task.WhenAll(tasks.Where(t => t.Node is not null && t.Spec is not null).GroupBy(t => t.Node!).Select(async group =>
        {
            var ids = group.Select(t => t.Task).ToArray();
            try
            {
                var missing = await Node(group.Key).HandOffAsync(ids).WaitAsync(HandOffWait).ConfigureAwait(false);
                lock (handed)
                {
                    handed.UnionWith(ids.Except(missing));
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or ObjectDisposedException)
            {
                // The node is gone or not answering: its results fail below, unless their replies come.
            }
        })).ConfigureAwait(false);

        foreach (var (task, node, spec) in tasks)
        {
            if (handed.Contains(task))
            {
                foreach (var id in pending.Where(p => p.TaskId == task))
                {
                    Publisher.HandedOff(id, node!);
                }
            }
            else if (node is not null && spec is not null)
            {
                HoldArguments(spec, add: false);
            }
        }

        await Task.WhenAll(pending.Where(id => !handed.Contains(id.TaskId)).Select(async id =>
        {
            // Finished already, its reply may be on its way here (and published on arrival); else it is lost.
            try
            {
                await (Owned.WhenReady(id) ?? Task.CompletedTask).WaitAsync(HandOffWait).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Publisher.Publish(id, Objects.LostObjects.Value(
                    id, $"its owner ({Id}) exited before the task or actor call making it finished, and could not hand it on", "(owner exited)"));
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Adds (or removes) the hold a handed-off task keeps on the objects its arguments refer to.</summary>
    private void HoldArguments(TaskSpec spec, bool add)
    {
        var holder = Objects.ObjectHolders.HandOff(spec.TaskId);
        foreach (var id in ArgumentRefs(spec.Args))
        {
            if (add)
            {
                Owned.Escape(id); // directory-counted from here, so the owner's exit does not free it
                Publisher.AddRef(id, holder, owner: null);
            }
            else
            {
                Publisher.RemoveRef(id, holder);
            }
        }
    }

    /// <summary>The objects a task's arguments refer to: its ref arguments and the refs inside its value arguments.</summary>
    public static IEnumerable<ObjectId> ArgumentRefs(TaskArg[] args)
    {
        foreach (var arg in args)
        {
            if (arg.Ref is { } id)
            {
                yield return id;
            }

            foreach (var inner in arg.Refs ?? [])
            {
                yield return inner;
            }
        }
    }

    /// <summary>
    /// The objects an actor holds in the directory for its whole life (taken at its first creation, let go when it
    /// dies for good), since a restart builds it from them again: those its constructor's arguments refer to and,
    /// for a restartable actor, its job's shipped code package, so a node that never unpacked the code can build it
    /// after the driver that shipped it exited.
    /// </summary>
    public static IEnumerable<ObjectId> ActorHeldRefs(ActorSpec spec)
    {
        foreach (var id in ArgumentRefs(spec.Args))
        {
            yield return id;
        }

        if (spec is { MaxRestarts: not 0, Code: { } code })
        {
            yield return code.Object;
        }
    }

    private static readonly TimeSpan HandOffWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The error to report for a failed task or call: what user code (or a dependency) threw keeps its
    /// type and stack; a failure of the runtime before the code ran (function not found, arguments that
    /// do not deserialize) is a system error naming what was wrong.
    /// </summary>
    public static RayErrorInfo DescribeFailure(Exception e, bool inUserCode, string name, Guid id, string? node) =>
        inUserCode || e is RayException
            ? RayErrors.FromException(e, name, id, node)
            : SystemError(id, name, e.GetType().FullName!, e.Message);

    public static RayErrorInfo SystemError(Guid taskId, string name, string type, string message) => new()
    {
        Kind = RayErrorKind.SystemError, ExceptionType = type, Message = message, TaskName = name, TaskId = taskId,
    };

    /// <summary>
    /// Whether a failed grain call means its target silo is gone (or going): the work it carried may be lost
    /// and is retried elsewhere, where other failures become the result's error.
    /// </summary>
    public static bool IsNodeLost(Exception e) =>
        e is SiloUnavailableException or OrleansMessageRejectionException || e.GetType().Name == "ConnectionFailedException" ||
        (e is InvalidOperationException && e.Message.Contains("has left the cluster", StringComparison.Ordinal)) ||
        (e is OrleansException && e.Message.Contains("is not an active member of the cluster", StringComparison.Ordinal));

    [LoggerMessage(Level = LogLevel.Warning, Message = "This runtime cannot be reached as an object owner (no grain observer): borrowers cannot have its objects made again.")]
    private static partial void LogNoOwnerReference(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The directory shard of {Id} is unavailable; asking again.")]
    private static partial void LogShardUnavailable(ILogger logger, ObjectId id, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Submitting '{Name}' ({TaskId}) failed; its result becomes the error.")]
    private static partial void LogSubmitFailed(ILogger logger, string name, Guid taskId, Exception exception);
}
