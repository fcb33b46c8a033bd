namespace RayOrleans.Tests.Functions;

/// <summary>The seed's Counter actor.</summary>
public sealed class Counter
{
    private int _total;

    public Counter() { }

    public Counter(int start) => _total = start;

    public int Add(int value) => _total += value;

    public int Total() => _total;

    public string Node() => Ray.Current.NodeId ?? "?";

    public int Say(string text)
    {
        Console.WriteLine($"counter says {text}");
        return _total;
    }

    public string LoadContextName() => System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(Counter).Assembly)?.Name ?? "?";

    /// <summary>A nested task from inside the actor: it runs from the same shipped code.</summary>
    public async Task<string> NestedLoadContextName() => await Ray.Current.Task(TestTasks.LoadContextName, 0).Remote();

    public string Gpus() => string.Join(",", Ray.GetGpuIds());

    public async Task<int> AddLaterAsync(int value)
    {
        await Task.Yield();
        return _total += value;
    }

    public int Throw() => throw new ArgumentException("bad actor call");

    public int CountLongs(long[] values) => values.Length;

    /// <summary>A large result (stored in its node's object store), counting its runs under <paramref name="key"/>.</summary>
    public double[] Numbers(string key, int n)
    {
        Probe.Increment(key);
        return Enumerable.Range(0, n).Select(i => (double)i).ToArray();
    }

    /// <summary>A call whose answer does not depend on the actor's state, so it is the same after a restart.</summary>
    public async Task<int> TwiceSlowly(int value)
    {
        await Task.Delay(5);
        return 2 * value;
    }

    public async Task<int> WaitFor(string key)
    {
        Probe.Increment(key + ":started");
        await Probe.Gate(key);
        return _total;
    }

    /// <summary>Waits for the gate of the node it runs on, so a test can release only the survivor of a kill.</summary>
    public async Task<int> WaitForOnNode(string key)
    {
        Probe.Increment(key + ":started");
        await Probe.Gate(key + ":" + Ray.Current.NodeId);
        return _total;
    }

    /// <summary>Waits for the test's go-ahead file (works across processes), then answers the node it ran on.</summary>
    public Task<string> WaitForFile(string folder) => FileGate.RunGated(folder);

    /// <summary>Forwards to another actor: handles work inside actors.</summary>
    public async Task<int> AddThrough(ActorHandle<Counter> other, int value) => await other.Task(c => c.Add(value)).Remote();
}

/// <summary>An actor whose constructor throws.</summary>
public sealed class Broken
{
    public Broken(string why) => throw new InvalidOperationException(why);

    public int Ping() => 1;
}

/// <summary>Two calls meet at a barrier: they finish only when they run at the same time.</summary>
public sealed class Rendezvous
{
    private readonly TaskCompletionSource _both = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public async Task<int> Meet()
    {
        if (Interlocked.Increment(ref _arrived) == 2)
        {
            _both.TrySetResult();
        }

        await _both.Task.WaitAsync(TimeSpan.FromSeconds(20));
        return _arrived;
    }
}

/// <summary>An actor that keeps a ref it was given inside a value, for the reference-counting tests.</summary>
public sealed class RefKeeper
{
    private ArrayHolder? _held;

    public RefKeeper() { }

    public RefKeeper(ArrayHolder held) => _held = held;

    public int Keep(ArrayHolder holder)
    {
        _held = holder;
        return 1;
    }

    public async Task<double> Sum() => (await _held!.Inner.GetAsync()).Sum();

    public int Drop()
    {
        _held = null;
        return 0;
    }
}

/// <summary>Keeps a ref to an int result inside a value (a result that may still be running).</summary>
public sealed class IntRefKeeper
{
    private Holder? _held;

    public int Keep(Holder holder)
    {
        _held = holder;
        return 1;
    }

    public async Task<int> Read() => await _held!.Inner.GetAsync(TimeSpan.FromSeconds(30));
}

/// <summary>Keeps a ref to a long array inside a value, and sums it on demand (a borrower of the ref).</summary>
public sealed class LongsKeeper
{
    private LongsHolder? _held;

    public int Keep(LongsHolder holder)
    {
        _held = holder;
        return 1;
    }

    public async Task<long> Sum() => (await _held!.Inner.GetAsync(TimeSpan.FromMinutes(2))).Sum();
}

/// <summary>An actor built from a large array (a constructor argument too big for one Orleans message).</summary>
public sealed class ArrayActor(long[] values)
{
    public long Last() => values[^1];

    public int Length() => values.Length;
}
