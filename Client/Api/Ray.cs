using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using RayOrleans.Functions;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans;

/// <summary>
/// A connection to a RayOrleans cluster: Ray's <c>ray</c> module as an object. Start one with
/// <see cref="InitAsync(RayInitOptions?)"/> (an embedded cluster in this process) or
/// <see cref="InitAsync(string, RayInitOptions?)"/> (a running cluster); inside a task or actor,
/// <see cref="Current"/> is the node's own.
/// </summary>
public sealed partial class Ray : IAsyncDisposable
{
    private static Ray? _driver;

    private readonly IHost? _host;
    private readonly ConcurrentDictionary<ActorId, byte> _ownedActors = new();
    private int _disposed;

    internal Ray(RayRuntime runtime, IHost? host)
    {
        Runtime = runtime;
        _host = host;
        runtime.Facade ??= this;
    }

    internal RayRuntime Runtime { get; }

    /// <summary>
    /// The Ray of the code that is running: inside a task or actor method, the node's; elsewhere the driver
    /// started last by <c>InitAsync</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No driver is initialized and the code is not a task.</exception>
    public static Ray Current
    {
        get
        {
            if (WorkerContext.Current is { } ctx)
            {
                return ctx.Runtime.Facade as Ray ?? new Ray(ctx.Runtime, host: null);
            }

            return Volatile.Read(ref _driver) ?? throw new InvalidOperationException("Ray is not initialized: call Ray.InitAsync() first.");
        }
    }

    /// <summary>
    /// Where another driver process joins this cluster with <see cref="InitAsync(string, RayInitOptions?)"/>:
    /// for an embedded cluster its gateway, <c>127.0.0.1:port</c> (pass the same <see cref="RayInitOptions.ClusterId"/>
    /// to both); for a connected driver the address it was given; null inside a task or over an attached client.
    /// </summary>
    public string? Address { get; private set; }

    /// <summary>This process's node id when it hosts a node (embedded cluster, or inside a task); otherwise null.</summary>
    public string? NodeId => Runtime.LocalNodeId;

    /// <summary>
    /// The ids of the GPUs the running task or actor was given (its <c>NumGpus</c>), as Ray's
    /// <c>ray.get_gpu_ids()</c>: whole GPUs no other task holds, or one GPU shared for a fraction. Empty
    /// outside a task, or when it asked for none.
    /// </summary>
    public static IReadOnlyList<string> GetGpuIds() => WorkerContext.Current?.GpuIds ?? [];

    /// <summary>
    /// <see cref="GetGpuIds"/> as a <c>CUDA_VISIBLE_DEVICES</c> value ("0,1"; "" when none), for a process the
    /// task starts: tasks share their node's process, so the variable is not set for them, only handed on.
    /// </summary>
    public static string CudaVisibleDevices => string.Join(",", GetGpuIds());

    /// <summary>The cancellation token of the task or actor call that is running; <see cref="CancellationToken.None"/> elsewhere.</summary>
    public static CancellationToken TaskCancellation => WorkerContext.Current?.Cancellation ?? CancellationToken.None;

    /// <summary>
    /// The cluster at a glance, as Ray's <c>ray status</c>: nodes with resources in total and free, demands
    /// queued on nodes, and demands no node can ever hold (they wait for one that can to join); with an
    /// autoscaler, its node types, nodes and latest decisions (<see cref="ClusterStatus.Autoscaler"/>).
    /// </summary>
    public async Task<ClusterStatus> ClusterStatusAsync()
    {
        var status = TransientRetry.ReadAsync(() => Runtime.Grains.GetGrain<Grains.IClusterResourcesGrain>(0).GetStatusAsync());
        var autoscaler = TransientRetry.ReadAsync(() => Runtime.Grains.GetGrain<Grains.IAutoscalerStateGrain>(0).GetStateAsync());
        return (await status.ConfigureAwait(false)) with { Autoscaler = await autoscaler.ConfigureAwait(false) };
    }

    /// <summary>The nodes of the cluster with their resources and load, as last reported (at most a second old).</summary>
    public async Task<IReadOnlyList<NodeReport>> NodesAsync()
    {
        await TransientRetry.ReadAsync(async () =>
        {
            await Runtime.Cluster.RefreshAsync().ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        return Runtime.Cluster.Reported;
    }

    /// <summary>
    /// Ray's <c>ray memory</c>: each node's object store (in memory, pooled, spilled, capacity, count) and its
    /// <paramref name="top"/> largest objects with their readers, owner, creator and the references that keep
    /// them alive (from the object directory; for this driver's own objects that never left it, from its table).
    /// </summary>
    public async Task<IReadOnlyList<NodeMemory>> MemoryAsync(int top = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        await Runtime.Cluster.RefreshAsync().ConfigureAwait(false);
        var nodes = await System.Threading.Tasks.Task.WhenAll(Runtime.Cluster.Reported.Select(n => Runtime.Node(n.NodeId).GetMemoryAsync(top))).ConfigureAwait(false);
        return await System.Threading.Tasks.Task.WhenAll(nodes.Select(async node => new NodeMemory
        {
            NodeId = node.NodeId, Used = node.Used, Pooled = node.Pooled, Spilled = node.Spilled, Capacity = node.Capacity, Count = node.Count,
            Largest = await System.Threading.Tasks.Task.WhenAll(node.Largest.Select(DescribeHoldersAsync)).ConfigureAwait(false),
        })).ConfigureAwait(false);
    }

    private async Task<StoredObjectInfo> DescribeHoldersAsync(StoredObjectInfo stored)
    {
        if (await Runtime.Directory(stored.Id.TaskId).DescribeAsync(stored.Id).ConfigureAwait(false) is { } record)
        {
            return new StoredObjectInfo
            {
                Id = stored.Id, Size = stored.Size, Spilled = stored.Spilled, Readers = stored.Readers, PulledFrom = stored.PulledFrom, Copies = stored.Copies,
                Owner = record.Owner, Creator = record.Creator, Holders = record.Holders,
            };
        }

        return Runtime.Owned.Owns(stored.Id)
            ? new StoredObjectInfo
            {
                Id = stored.Id, Size = stored.Size, Spilled = stored.Spilled, Readers = stored.Readers, PulledFrom = stored.PulledFrom, Copies = stored.Copies,
                Owner = Runtime.Id, Creator = Runtime.Owned.CreatorOf(stored.Id),
                Holders = new Dictionary<string, int> { [Objects.ObjectHolders.Process(Runtime.Id)] = 1 },
            }
            : stored;
    }

    // ------------------------------------------------------------------ objects

    /// <summary>Stores <paramref name="value"/> in the cluster and returns its ref.</summary>
    public async Task<ObjectRef<T>> PutAsync<T>(T value)
    {
        if (value is ObjectRef)
        {
            throw new ArgumentException("Put of an ObjectRef: pass the ref itself, or put the value it points to.", nameof(value));
        }

        return new ObjectRef<T>(await Runtime.PutAsync(value, typeof(T)).ConfigureAwait(false), Runtime);
    }

    /// <summary>The value of <paramref name="objectRef"/>; waits at most <paramref name="timeout"/>.</summary>
    /// <exception cref="GetTimeoutException">The object was not ready in time.</exception>
    /// <exception cref="RayTaskException">The task that makes it failed.</exception>
    public Task<T> GetAsync<T>(ObjectRef<T> objectRef, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objectRef);
        return objectRef.GetAsync(timeout, cancellationToken);
    }

    /// <summary>
    /// A view of an array of primitives in place in this node's shared-memory store, without copying it (a
    /// get of a gigabyte costs what a get of a kilobyte does). Dispose the view when done: until then the
    /// store keeps the object's memory. Objects not in this node's store are viewed over a copy
    /// (<see cref="ObjectView{T}.InPlace"/> says which).
    /// </summary>
    /// <exception cref="InvalidCastException">The object is not an array of <typeparamref name="T"/>.</exception>
    /// <exception cref="GetTimeoutException">The object was not ready in time.</exception>
    public async Task<ObjectView<T>> GetViewAsync<T>(ObjectRef<T[]> objectRef, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(objectRef);
        var bytes = await objectRef.Runtime.GetBytesAsync(objectRef.Id, timeout, cancellationToken).ConfigureAwait(false);
        if (!Serialization.ObjectSerializer.IsRawArrayOf(bytes.Memory.Span, typeof(T)))
        {
            bytes.Dispose();
            throw new InvalidCastException($"Object {objectRef.Id} is not stored as an array of {typeof(T).Name}, so it cannot be viewed in place; use GetAsync.");
        }

        return new ObjectView<T>(bytes, bytes.IsLease);
    }

    /// <summary>The values of <paramref name="refs"/>, in order; the timeout covers them all.</summary>
    public async Task<T[]> GetAsync<T>(IEnumerable<ObjectRef<T>> refs, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(refs);
        var list = refs as IReadOnlyList<ObjectRef<T>> ?? refs.ToList();
        var ids = new ObjectId[list.Count];
        var locals = new OwnedObjects.Entry?[list.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            var objectRef = list[i] ?? throw new ArgumentNullException(nameof(refs), $"refs[{i}] is null.");
            // Read through the entry a ref holds (the get below does too), without handing its id out.
            ids[i] = objectRef.RawId;
            locals[i] = objectRef.Local;
        }

        var deadline = timeout is { } t ? DateTime.UtcNow + t : (DateTime?)null;
        if (Runtime.WhenOwnedReady(ids, locals) is { } owned)
        {
            // The results this process owns (the usual batch: tasks just submitted) are waited for together;
            // after that each get below finds its value ready. On a timeout the gets below name the missing ref.
            try
            {
                var wait = timeout is { } limit ? owned.WaitAsync(limit, cancellationToken) : owned.WaitAsync(cancellationToken);
                await (WorkerContext.Current is { } ctx ? ctx.WhileBlockedAsync(Done(wait)) : wait).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        // Ready inline values are read here, without a task each; the rest (pending past a timeout, stored, failed,
        // owned elsewhere) go through their ref's own get.
        var values = new T[list.Count];
        List<(int Index, Task<T> Get)>? gets = null;
        var flush = false;
        for (var i = 0; i < list.Count; i++)
        {
            if (locals[i] is { } local && Runtime.TryReadOwned(local, typeof(T), out var value, out var borrowed))
            {
                values[i] = (T)value!;
                flush |= borrowed;
                continue;
            }

            (gets ??= []).Add((i, list[i].GetAsync(deadline is { } d ? Max(d - DateTime.UtcNow, TimeSpan.Zero) : null, cancellationToken)));
        }

        if (gets is not null)
        {
            var read = await System.Threading.Tasks.Task.WhenAll(gets.Select(g => g.Get)).ConfigureAwait(false);
            for (var k = 0; k < read.Length; k++)
            {
                values[gets[k].Index] = read[k];
            }
        }

        if (flush)
        {
            // Refs inside the values: the directory counts this process before the caller can drop or pass them.
            await Runtime.Publisher.FlushAsync().ConfigureAwait(false);
        }

        return values;

        static async Task<bool> Done(Task wait)
        {
            await wait.ConfigureAwait(false);
            return true;
        }

        static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
    }

    /// <summary>
    /// Cancels the task that makes <paramref name="objectRef"/>: a queued task never runs; a running one sees
    /// its <see cref="CancellationToken"/> cancelled. A get then throws <see cref="TaskCancelledException"/>.
    /// With <paramref name="recursive"/> the tasks it submitted are cancelled too.
    /// </summary>
    public Task CancelAsync(ObjectRef objectRef, bool force = false, bool recursive = true)
    {
        ArgumentNullException.ThrowIfNull(objectRef);
        return Runtime.CancelAsync(objectRef.Id.TaskId, force, recursive);
    }

    // ------------------------------------------------------------------ actors

    /// <summary>Prepares an actor made by the constructor call in <paramref name="constructor"/>, e.g. <c>() =&gt; new Counter(5)</c>.</summary>
    public ActorBuilder<TActor> Actor<TActor>(System.Linq.Expressions.Expression<Func<TActor>> constructor) where TActor : class =>
        new(this, constructor);

    /// <summary>The named actor <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public async Task<ActorHandle<TActor>> GetActorAsync<TActor>(string name, string? @namespace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var ns = @namespace ?? "default";
        var found = await TransientRetry.ReadAsync(() => Runtime.Grains.GetGrain<Grains.IActorRegistryGrain>(ns).LookupAsync(name)).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No actor named '{name}' in namespace '{ns}'.");
        if (found.ClassName != typeof(TActor).FullName)
        {
            throw new InvalidCastException($"Actor '{name}' is a {found.ClassName}, not a {typeof(TActor).FullName}.");
        }

        return new ActorHandle<TActor>(found.Actor, Runtime);
    }

    /// <summary>
    /// Kills the actor: its queued and later calls fail with <see cref="ActorDiedException"/>. Without
    /// <paramref name="noRestart"/> it restarts if its <c>MaxRestarts</c> allows.
    /// </summary>
    public Task KillAsync<TActor>(ActorHandle<TActor> actor, bool noRestart = true)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return Runtime.KillActorAsync(actor.Id, noRestart);
    }

    internal void TrackOwnedActor(ActorId id) => _ownedActors.TryAdd(id, 0);

    // ------------------------------------------------------------------ placement groups

    /// <summary>
    /// Creates a placement group (Ray's <c>placement_group</c>): reserves each bundle of resources (keys "CPU",
    /// "GPU", "memory" in bytes, or custom names) on a node, laid out by <paramref name="strategy"/>, all at
    /// once or not at all. Returns once the request is registered; await <see cref="PlacementGroup.ReadyAsync"/>
    /// for the reservation. A group that cannot be placed yet waits (its <c>InfoAsync</c> says why).
    /// </summary>
    /// <exception cref="ArgumentException">No bundles, an empty bundle, or a bad amount (the message names the bundle); or the name is taken.</exception>
    public async Task<PlacementGroup> PlacementGroupAsync(
        IReadOnlyList<Dictionary<string, double>> bundles, PlacementGroupStrategy strategy = PlacementGroupStrategy.Pack, string? name = null, string? @namespace = null)
    {
        var spec = new Messages.PlacementGroupSpec
        {
            Id = Guid.NewGuid(), Bundles = PlacementGroupBundles.Validate(bundles), Strategy = PlacementGroupBundles.Validate(strategy),
            Name = name is { Length: 0 } ? throw new ArgumentException("A placement group name must not be empty.", nameof(name)) : name,
            Namespace = @namespace ?? "default",
        };
        await Runtime.PlacementGroup(spec.Id).CreateAsync(spec).ConfigureAwait(false);
        return new PlacementGroup(Runtime, spec);
    }

    /// <summary>
    /// Removes a placement group (Ray's <c>remove_placement_group</c>): its reservations are given back, the
    /// actors in it are killed, its queued tasks fail and its running tasks are cancelled.
    /// </summary>
    public async Task RemovePlacementGroupAsync(PlacementGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        await Runtime.PlacementGroup(group.Id).RemoveAsync().ConfigureAwait(false);
        Runtime.ForgetGroup(group.Id, await Runtime.PlacementGroup(group.Id).GetInfoAsync().ConfigureAwait(false));
    }

    /// <summary>The placement group named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public async Task<PlacementGroup> GetPlacementGroupAsync(string name, string? @namespace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var ns = @namespace ?? "default";
        var id = await TransientRetry.ReadAsync(() => Runtime.Grains.GetGrain<Grains.IPlacementGroupRegistryGrain>(ns).LookupAsync(name)).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No placement group named '{name}' in namespace '{ns}'.");
        var info = await Runtime.PlacementGroup(id).GetInfoAsync().ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No placement group named '{name}' in namespace '{ns}'.");
        return new PlacementGroup(Runtime, info.Spec);
    }

    // ------------------------------------------------------------------ argument plumbing

    internal static FunctionDescriptor Describe(Delegate function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function.Target is null && Described.TryGetValue(function.Method, out var known))
        {
            return known; // checked once per method: the checks read attributes by reflection
        }

        var method = function.Method;
        if (function.Target is not null || !method.IsStatic)
        {
            throw new ArgumentException(
                $"'{method.Name}' cannot run remotely: a remote function must be a public static method passed as a method group (a lambda, or an instance method, would need its captured state on another node).",
                nameof(function));
        }

        if (!method.IsPublic || !IsVisible(method.DeclaringType!) || method.DeclaringType!.IsDefined(typeof(CompilerGeneratedAttribute)))
        {
            throw new ArgumentException(
                $"'{method.DeclaringType?.Name}.{method.Name}' cannot run remotely: it and its declaring type must be public.", nameof(function));
        }

        var descriptor = FunctionDescriptor.For(method);
        if (!FunctionDescriptor.IsCollectible(method))
        {
            Described.TryAdd(method, descriptor); // a job's collectible code is not pinned by this cache
        }

        return descriptor;
    }

    private static readonly ConcurrentDictionary<MethodInfo, FunctionDescriptor> Described = new();

    internal static bool IsVisible(Type type) => type.IsVisible;

    internal static TaskArg ValueArg<T>(T value, int index, object function)
    {
        try
        {
            var bytes = Serialization.RefCapture.Serialize(Serialization.ObjectSerializer.Instance, value, typeof(T), out var refs);
            return new TaskArg { Value = bytes, Refs = refs };
        }
        catch (RaySerializationException e)
        {
            throw new ArgumentException($"Argument {index + 1} of {NameOf(function)} ({typeof(T).Name}) cannot be sent to another node: {e.InnerException?.Message}", $"a{index + 1}", e);
        }
    }

    internal static TaskArg RefArg<T>(ObjectRef<T> value, int index, object function)
    {
        if (value is null)
        {
            throw new ArgumentNullException($"a{index + 1}", $"Argument {index + 1} of {NameOf(function)} is a null ObjectRef.");
        }

        // An owned value held inline and ready goes with its record now: it can never change or be lost, and the
        // submit then has nothing to resolve (no copy of the arguments and the call or task per submit).
        var id = value.Id;
        return new TaskArg { Ref = id, Resolved = value.BoundRuntime?.ReadyInlineRecord(id, value.Local) };
    }

    private static string NameOf(object function) => function switch
    {
        Delegate d => $"{d.Method.DeclaringType?.Name}.{d.Method.Name}",
        System.Linq.Expressions.LambdaExpression l => l.Body.ToString(),
        MethodBase m => $"{m.DeclaringType?.Name}.{m.Name}",
        _ => function.ToString() ?? "?",
    };

    /// <summary>
    /// Drops an external driver as if its process died: no actor is killed, nothing is let go or handed on,
    /// and its client just disconnects. For tests of what a driver's death leaves behind.
    /// </summary>
    internal async ValueTask AbandonAsync()
    {
        if (Runtime.LocalNodeId is not null || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            throw new InvalidOperationException("Only a connected external driver can be abandoned, once.");
        }

        Interlocked.CompareExchange(ref _driver, null, this);
        await StopJobAsync(abandon: true).ConfigureAwait(false);
        await Runtime.AbandonAsync().ConfigureAwait(false);
        await Runtime.Cluster.DisposeAsync().ConfigureAwait(false);
        if (_host is not null)
        {
            await _host.StopAsync().ConfigureAwait(false);
            _host.Dispose();
        }
    }

    /// <summary>Shuts down: kills the non-detached actors this driver created and stops the embedded cluster or the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _driver, null, this);
        await StopJobAsync().ConfigureAwait(false);
        try
        {
            await System.Threading.Tasks.Task.WhenAll(_ownedActors.Keys.Select(id => Runtime.Actor(id).KillAsync(noRestart: true)))
                .WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Shutting down regardless: an actor whose node is gone is already dead.
        }

        try
        {
            await Runtime.FlushOwnerEventsAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); // lost or cancelled attempts seen here
        }
        catch (Exception)
        {
            // Exiting regardless: those rows are only missing from the state API.
        }

        if (Runtime.LocalNodeId is null)
        {
            // An external driver made its own runtime and cluster view; a node's belong to the node.
            await Runtime.StopAsync().ConfigureAwait(false);
            await Runtime.Cluster.DisposeAsync().ConfigureAwait(false);
        }

        if (_host is not null)
        {
            await _host.StopAsync().ConfigureAwait(false);
            _host.Dispose();
        }
    }
}
