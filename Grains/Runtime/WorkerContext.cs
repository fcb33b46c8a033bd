using System.Collections.Concurrent;
using RayOrleans.Messages;
using RayOrleans.Node;

namespace RayOrleans.Runtime;

/// <summary>
/// What user code running as a task or actor method knows about itself: its task, its runtime, its
/// cancellation, and the CPU it holds. Flows through the user's awaits as an <see cref="AsyncLocal{T}"/>.
/// </summary>
internal sealed class WorkerContext
{
    private static readonly AsyncLocal<WorkerContext?> CurrentContext = new();

    private readonly NodeResources? _resources;
    private readonly ResourceSet _cpu;
    // The context locks itself (it is internal and never handed to user code as a lock): one object less per task.
    private object Gate => this;
    private int _blocked;
    private bool _held = true;
    private Task _reacquired = Task.CompletedTask;

    public WorkerContext(Guid taskId, string name, RayRuntime runtime, CancellationToken cancellation, NodeResources? resources, ResourceSet held, string[]? gpuIds = null)
    {
        GpuIds = gpuIds ?? [];
        TaskId = taskId;
        Name = name;
        Runtime = runtime;
        Cancellation = cancellation;
        _resources = resources;
        _cpu = CpuOf(held);
    }

    /// <summary>The CPU part of what a task holds, shared between tasks: one set per amount, not one per task.</summary>
    private static ResourceSet CpuOf(ResourceSet held)
    {
        var cpu = held[ResourceSet.Cpu];
        if (cpu <= 0)
        {
            return ResourceSet.Empty;
        }

        if (held.Amounts.Count == 1)
        {
            return held; // only CPU already (the common demand)
        }

        if (CpuSets.TryGetValue(cpu, out var set))
        {
            return set;
        }

        set = new ResourceSet(new Dictionary<string, double> { [ResourceSet.Cpu] = cpu });
        if (CpuSets.Count < 64)
        {
            CpuSets.TryAdd(cpu, set); // a handful of amounts in practice; capped so odd fractions cannot grow it
        }

        return set;
    }

    private static readonly ConcurrentDictionary<double, ResourceSet> CpuSets = new();

    public static WorkerContext? Current => CurrentContext.Value;

    public Guid TaskId { get; }

    /// <summary>The job of the running task or actor: the work it submits belongs to it too.</summary>
    public string JobId { get; init; } = "";

    /// <summary>The job's shipped code the running task or actor comes from: the work it submits runs in it too.</summary>
    public CodePackage? Code { get; init; }

    /// <summary>The ids of the GPUs the task or actor was given (empty when it asked for none).</summary>
    public string[] GpuIds { get; }

    public string Name { get; }

    public RayRuntime Runtime { get; }

    public CancellationToken Cancellation { get; }

    /// <summary>What the task wrote to standard output (and error) since its last complete line (see <c>TaskOutput</c>).</summary>
    public System.Text.StringBuilder PendingOutput => LazyInitializer.EnsureInitialized(ref _pendingOutput);

    public System.Text.StringBuilder PendingError => LazyInitializer.EnsureInitialized(ref _pendingError);

    private System.Text.StringBuilder? _pendingOutput;
    private System.Text.StringBuilder? _pendingError;

    /// <summary>Sends what the task wrote without a final newline, as a line of its own (the task is ending).</summary>
    public void FlushPendingOutput()
    {
        Flush(_pendingOutput, isError: false);
        Flush(_pendingError, isError: true);
    }

    private void Flush(System.Text.StringBuilder? pending, bool isError)
    {
        if (pending is null)
        {
            return;
        }

        lock (pending)
        {
            if (pending.Length > 0)
            {
                Logs.TaskOutput.Send(this, pending.ToString(), isError);
                pending.Clear();
            }
        }
    }

    /// <summary>Tasks and actor calls this task submitted, for recursive cancellation.</summary>
    public IEnumerable<Guid> Children
    {
        get
        {
            if (Volatile.Read(ref _children) is not { } children)
            {
                return [];
            }

            lock (children)
            {
                return children.ToArray(); // a copy: the task may still be submitting
            }
        }
    }

    /// <summary>Records a task or actor call this task submitted.</summary>
    public void AddChild(Guid id)
    {
        var children = LazyInitializer.EnsureInitialized(ref _children);
        lock (children)
        {
            children.Add(id);
        }
    }

    // Made on the first child: most tasks submit none. A list under its lock, not a concurrent queue: 16 bytes a
    // child rather than a 24-byte slot in segments that double, for the whole life of a task that submits thousands.
    private List<Guid>? _children;

    /// <summary>Makes this the current context for the code that runs from here in this async flow.</summary>
    public void Enter() => CurrentContext.Value = this;

    /// <summary>
    /// Clears the context for the rest of this async flow. Runtime work that may have been started from
    /// inside a task (a local grain call, a background loop) calls this first: the context flows with the
    /// execution context, and a get there must not release the CPU of the task that happened to start it.
    /// </summary>
    public static void Leave() => CurrentContext.Value = null;

    /// <summary>
    /// Waits for <paramref name="wait"/> with the task's CPU released, so tasks it waits on can use it: this
    /// is what lets nested tasks 100 levels deep finish on a 2-CPU node. The CPU is taken back (ahead of
    /// queued tasks) before the caller continues, so the node never runs more than it has.
    /// </summary>
    public async Task<T> WhileBlockedAsync<T>(Task<T> wait)
    {
        if (_resources is null || _cpu.Amounts.Count == 0 || wait.IsCompleted)
        {
            return await wait.ConfigureAwait(false);
        }

        lock (Gate)
        {
            if (++_blocked == 1 && _held)
            {
                _held = false;
                _resources.Release(_cpu);
            }
        }

        try
        {
            return await wait.ConfigureAwait(false);
        }
        finally
        {
            Task reacquire;
            lock (Gate)
            {
                if (--_blocked == 0 && !_held && _reacquired.IsCompleted)
                {
                    _reacquired = ReacquireAsync();
                }

                reacquire = _reacquired;
            }

            await reacquire.ConfigureAwait(false);
        }
    }

    private async Task ReacquireAsync()
    {
        await _resources!.AcquireAsync(_cpu, priority: true, CancellationToken.None).ConfigureAwait(false);
        lock (Gate)
        {
            _held = true;
            if (_blocked > 0)
            {
                // Another flow of this task blocked while the CPU was on its way back: give it up again.
                _held = false;
                _resources.Release(_cpu);
            }
        }
    }
}
