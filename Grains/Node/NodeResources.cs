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

    public NodeResources(ResourceSet total)
    {
        Total = total;
        _available = new Dictionary<string, double>(total.Amounts, StringComparer.Ordinal);
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
    public bool TryAcquireNow(ResourceSet demand)
    {
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(demand))
            {
                Take(demand);
                return true;
            }

            return false;
        }
    }

    /// <summary>True when the node could ever satisfy <paramref name="demand"/>.</summary>
    public bool IsFeasible(ResourceSet demand) => demand.FitsIn(Total);

    public Task AcquireAsync(ResourceSet demand, bool priority, CancellationToken cancellationToken)
    {
        if (!IsFeasible(demand))
        {
            throw new InvalidOperationException($"Demand {demand} can never fit on this node, which has {Total} in all.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(demand))
            {
                Take(demand);
                return Task.CompletedTask;
            }

            var waiter = new Waiter(demand);
            var node = priority ? _waiters.AddFirst(waiter) : _waiters.AddLast(waiter);
            if (cancellationToken.CanBeCanceled)
            {
                waiter.Registration = cancellationToken.Register(() =>
                {
                    lock (_gate)
                    {
                        if (node.List is null)
                        {
                            return; // already granted
                        }

                        _waiters.Remove(node);
                    }

                    waiter.Completion.TrySetCanceled(cancellationToken);
                });
            }

            GrantLocked();
            return waiter.Completion.Task;
        }
    }

    public void Release(ResourceSet held)
    {
        List<Waiter> granted;
        lock (_gate)
        {
            foreach (var (name, amount) in held.Amounts)
            {
                _available[name] = Math.Min(Total[name], (_available.TryGetValue(name, out var v) ? v : 0) + amount);
            }

            granted = GrantLocked();
        }

        foreach (var waiter in granted)
        {
            waiter.Registration.Dispose();
        }
    }

    private List<Waiter> GrantLocked()
    {
        var granted = new List<Waiter>();
        var passedOver = 0;
        for (var node = _waiters.First; node is not null && passedOver < LookAhead;)
        {
            var next = node.Next;
            if (Fits(node.Value.Demand))
            {
                Take(node.Value.Demand);
                _waiters.Remove(node);
                // Continuations run on the thread pool, never inline under this lock.
                node.Value.Completion.TrySetResult();
                granted.Add(node.Value);
            }
            else
            {
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

        return true;
    }

    private void Take(ResourceSet demand)
    {
        foreach (var (name, amount) in demand.Amounts)
        {
            _available[name] -= amount;
        }
    }

    private sealed class Waiter(ResourceSet demand)
    {
        public ResourceSet Demand { get; } = demand;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
    }
}
