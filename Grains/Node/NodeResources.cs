using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>
/// The resources of this node and who holds them. Acquisition never over-commits: a demand waits until it
/// fits. Waiters are served in order, but a later demand that fits is not held back by an earlier one that
/// does not (a 1-CPU task runs while a 2-CPU task waits for two free CPUs), within a look-ahead of
/// <see cref="LookAhead"/> waiters. Priority waiters (tasks coming back from a blocking get) go first.
/// </summary>
internal sealed class NodeResources
{
    private readonly object _gate = new();
    private readonly Dictionary<string, double> _available;
    private readonly LinkedList<Waiter> _waiters = new();

    private readonly GpuSlots _gpus;

    /// <param name="total">What the node offers.</param>
    /// <param name="gpuIds">The ids of its GPUs (one per whole GPU in <paramref name="total"/>); default "0", "1", ...</param>
    public NodeResources(ResourceSet total, IReadOnlyList<string>? gpuIds = null)
    {
        Total = total;
        _available = new Dictionary<string, double>(total.Amounts, StringComparer.Ordinal);
        var gpus = (int)Math.Floor(total[ResourceSet.Gpu] + 1e-9);
        gpuIds ??= Enumerable.Range(0, gpus).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (gpuIds.Count < gpus)
        {
            // More ids than whole GPUs is fine (a bundle holding half of one GPU names that GPU).
            throw new ArgumentException($"The node offers {total[ResourceSet.Gpu]} GPUs but names {gpuIds.Count} GPU ids ({string.Join(", ", gpuIds)}); give one id per GPU.", nameof(gpuIds));
        }

        _gpus = new GpuSlots(gpuIds);
    }

    /// <summary>The ids of the node's GPUs.</summary>
    public IReadOnlyList<string> GpuIds => _gpus.Ids;

    /// <summary>The GPU ids <paramref name="holder"/> (a task or actor id) was given with its resources; empty when none.</summary>
    public string[] GpuIdsOf(Guid holder)
    {
        lock (_gate)
        {
            return _gpus.IdsOf(holder);
        }
    }

    public ResourceSet Total { get; }

    public ResourceSet Available
    {
        get
        {
            lock (_gate)
            {
                return new ResourceSet(_available);
            }
        }
    }

    /// <summary>True when <paramref name="demand"/> would be granted now, ahead of no one.</summary>
    public bool CanAcquireNow(ResourceSet demand)
    {
        lock (_gate)
        {
            return _waiters.Count == 0 && Fits(demand);
        }
    }

    /// <summary>Takes <paramref name="demand"/> if it is granted now, ahead of no one; false (taking nothing) otherwise.</summary>
    /// <param name="demand">What to take.</param>
    /// <param name="holder">Who holds it (a task or actor id), to know its GPU ids by; release with the same.</param>
    public bool TryAcquireNow(ResourceSet demand, Guid holder = default)
    {
        lock (_gate)
        {
            if (_closed is null && _waiters.Count == 0 && Fits(demand))
            {
                Take(demand, holder);
                return true;
            }

            return false;
        }
    }

    /// <summary>
    /// Takes <paramref name="demand"/> if it fits now, even ahead of waiting demands (a placement group's
    /// bundle: its reservation is all-or-nothing across nodes and is retried, so it must not queue here).
    /// </summary>
    public bool TryAcquireAhead(ResourceSet demand, Guid holder)
    {
        lock (_gate)
        {
            if (_closed is null && Fits(demand))
            {
                Take(demand, holder);
                return true;
            }

            return false;
        }
    }

    /// <summary>
    /// Closes the pool (a removed placement group's bundle): waiting and later demands fail with
    /// <paramref name="reason"/>; <paramref name="drained"/> runs once everything held has been released.
    /// </summary>
    public void Close(string reason, Action drained)
    {
        List<Waiter> waiting;
        bool idle;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return;
            }

            _closed = reason;
            _drained = drained;
            // A task taking back the CPU it lent while blocked in a get still runs: it keeps its place (and
            // gets the CPU), or the pool would count that CPU free and drain while the task uses it.
            waiting = _waiters.Where(w => !w.Priority).ToList();
            foreach (var waiter in waiting)
            {
                _waiters.Remove(waiter);
            }

            idle = IsIdleLocked();
            if (idle)
            {
                _drained = null;
            }
        }

        foreach (var waiter in waiting)
        {
            waiter.Registration.Dispose();
            waiter.Completion.TrySetException(new InvalidOperationException(reason));
        }

        if (idle)
        {
            drained();
        }
    }

    private string? _closed;
    private Action? _drained;

    private bool IsIdleLocked() => Total.Amounts.All(t => _available.GetValueOrDefault(t.Key) + 1e-9 >= t.Value);

    /// <summary>The demands waiting here, grouped (only the first <paramref name="limit"/> waiters are looked at).</summary>
    public DemandSummary[] Waiting(int limit = 1000)
    {
        var counts = new Dictionary<string, (ResourceSet Demand, int Count)>(StringComparer.Ordinal);
        lock (_gate)
        {
            var seen = 0;
            for (var node = _waiters.First; node is not null && seen < limit; node = node.Next, seen++)
            {
                var key = node.Value.Demand.ToString();
                counts[key] = (node.Value.Demand, counts.GetValueOrDefault(key).Count + 1);
            }
        }

        return counts.Values.Select(c => new DemandSummary { Demand = c.Demand, Count = c.Count }).ToArray();
    }

    /// <summary>True when the node could ever satisfy <paramref name="demand"/>.</summary>
    public bool IsFeasible(ResourceSet demand) => demand.FitsIn(Total);

    public Task AcquireAsync(ResourceSet demand, bool priority, CancellationToken cancellationToken, Guid holder = default) =>
        AcquireAsync(demand, priority, cancellationToken, holder, out _);

    /// <summary>
    /// As <see cref="AcquireAsync(ResourceSet, bool, CancellationToken, Guid)"/>; <paramref name="waiter"/> is the
    /// queued demand when it has to wait (null when granted at once), which <see cref="Withdraw"/> takes out of
    /// the queue (a task moving to another node) without a cancellation source of its own per waiting task.
    /// </summary>
    public Task AcquireAsync(ResourceSet demand, bool priority, CancellationToken cancellationToken, Guid holder, out Waiter? waiter)
    {
        waiter = null;
        if (!IsFeasible(demand))
        {
            throw new InvalidOperationException($"Demand {demand} can never fit on this node, which has {Total} in all.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_closed is { } reason && !priority)
            {
                throw new InvalidOperationException(reason);
            }

            if (_waiters.Count == 0 && Fits(demand))
            {
                Take(demand, holder);
                return Task.CompletedTask;
            }

            var queued = new Waiter(this, demand, holder, priority);
            queued.Node = priority ? _waiters.AddFirst(queued) : _waiters.AddLast(queued);
            if (cancellationToken.CanBeCanceled)
            {
                // The waiter is the callback's state: no closure per waiting task.
                queued.Registration = cancellationToken.Register(static (state, token) =>
                {
                    var waiter = (Waiter)state!;
                    if (waiter.Pool.Dequeue(waiter))
                    {
                        waiter.Completion.TrySetCanceled(token);
                    }
                }, queued);
            }

            GrantLocked();
            waiter = queued;
            return queued.Completion.Task;
        }
    }

    /// <summary>
    /// Takes a waiting demand out of the queue and cancels its wait; false when it was granted (or withdrawn) already.
    /// </summary>
    public bool Withdraw(Waiter waiter)
    {
        if (!Dequeue(waiter))
        {
            return false;
        }

        waiter.Registration.Dispose();
        waiter.Completion.TrySetCanceled();
        return true;
    }

    private bool Dequeue(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Node is not { List: not null } node)
            {
                return false; // already granted or withdrawn
            }

            _waiters.Remove(node);
            return true;
        }
    }

    public void Release(ResourceSet held, Guid holder = default)
    {
        List<Waiter>? granted;
        Action? drained = null;
        lock (_gate)
        {
            _gpus.Release(held[ResourceSet.Gpu], holder);
            foreach (var (name, amount) in held.Amounts)
            {
                _available[name] = Math.Min(Total[name], (_available.TryGetValue(name, out var v) ? v : 0) + amount);
            }

            granted = GrantLocked();
            if (_drained is { } callback && IsIdleLocked())
            {
                _drained = null;
                drained = callback;
            }
        }

        foreach (var waiter in granted ?? [])
        {
            waiter.Registration.Dispose();
        }

        drained?.Invoke();
    }

    /// <summary>Grants what fits now, in order within the look-ahead; the waiters granted, null when none (no list per release).</summary>
    private List<Waiter>? GrantLocked()
    {
        List<Waiter>? granted = null;
        var passedOver = 0;
        // What is available only shrinks during a scan, so a demand that did not fit will not fit further on:
        // waiters mostly share one demand object (a function's), and this skips re-checking it 64 times a release.
        ResourceSet? rejected = null;
        for (var node = _waiters.First; node is not null && passedOver < LookAhead;)
        {
            var next = node.Next;
            var demand = node.Value.Demand;
            if (!ReferenceEquals(demand, rejected) && Fits(demand))
            {
                Take(node.Value.Demand, node.Value.Holder);
                _waiters.Remove(node);
                // Continuations run on the thread pool, never inline under this lock.
                node.Value.Completion.TrySetResult();
                (granted ??= []).Add(node.Value);
            }
            else
            {
                rejected = demand;
                passedOver++;
            }

            node = next;
        }

        return granted;
    }

    /// <summary>
    /// How many waiting demands that do not fit a release looks past for one that does. Bounded, so a
    /// release costs the same with ten or a million tasks queued (a full scan made a long queue quadratic).
    /// </summary>
    private const int LookAhead = 64;

    private bool Fits(ResourceSet demand)
    {
        foreach (var (name, amount) in demand.Amounts)
        {
            if ((_available.TryGetValue(name, out var v) ? v : 0) + 1e-9 < amount)
            {
                return false;
            }
        }

        // Enough GPU in all is not enough: a whole GPU must be unused, or a fraction fit on one GPU.
        return _gpus.Fits(demand[ResourceSet.Gpu]);
    }

    private void Take(ResourceSet demand, Guid holder)
    {
        foreach (var (name, amount) in demand.Amounts)
        {
            _available[name] -= amount;
        }

        _gpus.Take(demand[ResourceSet.Gpu], holder);
    }

    /// <summary>A demand waiting in a pool's queue.</summary>
    internal sealed class Waiter(NodeResources pool, ResourceSet demand, Guid holder, bool priority = false)
    {
        public NodeResources Pool { get; } = pool;
        /// <summary>Its place in the queue; detached (List null) once granted or withdrawn.</summary>
        public LinkedListNode<Waiter>? Node { get; set; }
        public bool Priority { get; } = priority;
        public ResourceSet Demand { get; } = demand;
        public Guid Holder { get; } = holder;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
    }
}
