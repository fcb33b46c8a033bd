using System.Runtime.CompilerServices;

namespace RayOrleans.Tests.Functions;

public sealed record Point(int X, int Y);

public sealed record Holder(string Label, ObjectRef<int> Inner);

public sealed record ArrayHolder(ObjectRef<double[]> Inner);

public sealed record LongsHolder(ObjectRef<long[]> Inner);

public sealed class Bag
{
    public List<string> Names { get; set; } = [];
    public Dictionary<string, double[]> Series { get; set; } = [];
    public Point? Origin { get; set; }
}

/// <summary>Remote functions used by the tests.</summary>
public static class TestTasks
{
    public static int Square(int x) => x * x;

    /// <summary>Writes to standard output and error, a logger, and a last line without a newline.</summary>
    public static int Shout(string text)
    {
        Console.WriteLine($"out:{text}");
        Console.Error.WriteLine($"err:{text}");
        Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(Ray.GetLogger("Shouter"), "warn:{Text}", text);
        Console.Write($"tail:{text}");
        return text.Length;
    }

    /// <summary>The load context this code runs in on the node: "job ..." when it was shipped with the driver.</summary>
    public static string LoadContextName(int _) =>
        System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(TestTasks).Assembly)?.Name ?? "?";

    public static int Add(int x, int y) => x + y;

    public static async Task<int> SquareSlowly(int x)
    {
        await Task.Delay(2);
        return x * x;
    }

    public static string WhereAmI(int _) => Ray.Current.NodeId ?? "driver";

    public static async Task<string> WhereAmISlowly(int _)
    {
        await Task.Delay(20);
        return Ray.Current.NodeId ?? "driver";
    }

    /// <summary>Holds its resources for <paramref name="milliseconds"/> (a delay, not a get: the CPU stays taken), then says where it ran.</summary>
    public static async Task<string> HoldFor(int milliseconds)
    {
        await Task.Delay(milliseconds);
        return Ray.Current.NodeId ?? "driver";
    }

    public static async Task<int> DoubleAsync(int x)
    {
        await Task.Yield();
        return 2 * x;
    }

    public static async ValueTask<int> TripleAsync(int x)
    {
        await Task.Yield();
        return 3 * x;
    }

    public static int Fail(string message) => throw new InvalidOperationException(message);

    public static async Task<int> ReadInner(Holder holder) => await holder.Inner + holder.Label.Length;

    public static Point Mirror(Point p) => new(p.Y, p.X);

    public static Bag Echo(Bag bag) => bag;

    public static double SumArray(double[] values) => values.Sum();

    public static long SumLongs(long[] values) => values.Sum();

    /// <summary>Where it ran, and the sum; slow enough that several spread over the nodes.</summary>
    public static async Task<string> SumArraySlowly(double[] values)
    {
        await Task.Delay(300);
        return $"{Ray.Current.NodeId}={values.Sum()}";
    }

    public static double[] MakeArray(int n) => Enumerable.Range(0, n).Select(i => (double)i).ToArray();

    public static (int Sum, string Text) SumAndText(int a, int b) => (a + b, $"{a}+{b}");

    public static string[] Words(int count) => Enumerable.Range(0, count).Select(i => $"word{i}").ToArray();

    public static long SumAll(int[] values) => values.Sum(v => (long)v);

    public static int FailTimes(string key, int failures) =>
        Probe.Increment(key) <= failures ? throw new InvalidOperationException($"failure {Probe.Count(key)}") : Probe.Count(key);

    /// <summary>Recurses through nested tasks, each blocked in a get on its child.</summary>
    public static async Task<int> Nest(int depth) =>
        depth == 0 ? 0 : await Ray.Current.Task(Nest, depth - 1).Remote() + 1;

    public static async Task<int> Blocker(string key)
    {
        Probe.Increment(key + ":started");
        await Probe.Gate(key);
        return 1;
    }

    /// <summary>Waits for the test's go-ahead, then says where it ran; a run on a node that was killed meanwhile publishes nothing.</summary>
    public static async Task<string> BlockThenReportNode(string key)
    {
        var node = Ray.Current.NodeId ?? "driver";
        Probe.Increment(key + ":started");
        await Probe.Gate(key);
        return node;
    }

    /// <summary>Holds its CPU briefly and returns how many tasks ran on its node at once, itself included.</summary>
    public static async Task<int> Occupy(string key)
    {
        var running = key + ":" + Ray.Current.NodeId;
        var atOnce = Probe.Add(running, 1);
        await Task.Delay(30);
        Probe.Add(running, -1);
        return atOnce;
    }

    /// <summary>Submits nested tasks with ref arguments and gets them, several at once, from inside a task.</summary>
    public static async Task<int> FanOutAndGet(int width)
    {
        var ray = Ray.Current;
        var squares = Enumerable.Range(0, width).Select(i => ray.Task(Square, i).Remote()).ToList();
        var sums = squares.Select(s => ray.Task(Add, s, 1).Remote());
        return (await ray.GetAsync(sums)).Sum();
    }

    public static int MarkRan(string key) => Probe.Increment(key);

    /// <summary><see cref="CountedLongs"/> with a large argument by value (1.6 MB: over the lineage limit).</summary>
    public static long[] SumThenCount(double[] ballast, string key, int n) => CountedLongs(key, n + (int)ballast.Sum());

    /// <summary>Reports "node|gpu ids" once every task under <paramref name="key"/> has started and the gate opened.</summary>
    public static async Task<string> HoldGpus(string key)
    {
        var ids = string.Join(",", Ray.GetGpuIds());
        Probe.Increment(key + ":started");
        await Probe.Gate(key);
        return $"{Ray.Current.NodeId}|{ids}";
    }

    /// <summary>0..n-1 as longs (stored, not inlined, from n of about 13,000), counting each run under <paramref name="key"/>.</summary>
    public static long[] CountedLongs(string key, int n)
    {
        Probe.Increment(key);
        var values = new long[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = i;
        }

        return values;
    }

    /// <summary>
    /// On a node: puts a large array, opens two views of it and gets a copy; reports whether both views read
    /// the store in place at the same address, and whether writing the copy left the views untouched.
    /// </summary>
    public static async Task<string> ViewTwice(int length)
    {
        var ray = Ray.Current;
        var data = Enumerable.Range(0, length).Select(i => (float)i).ToArray();
        var stored = await ray.PutAsync(data);
        using var first = await ray.GetViewAsync(stored);
        using var second = await ray.GetViewAsync(stored);
        var copy = await stored.GetAsync();
        copy[1] = -1;
        unsafe
        {
            fixed (float* a = first.Span, b = second.Span)
            {
                return $"inPlace={first.InPlace && second.InPlace} shared={a == b} length={first.Length} second={first.Span[1]}";
            }
        }
    }

    /// <summary>Waits for the gate, then returns a large array (stored, not inline); counts ":done" after.</summary>
    public static async Task<double[]> GatedArray(string key, int length)
    {
        Probe.Increment(key + ":started");
        await Probe.Gate(key);
        Probe.Increment(key + ":done");
        return new double[length];
    }

    /// <summary>Throws on its first run; later runs wait for the gate, then return a new array.</summary>
    public static async Task<double[]> FailOnceThenGatedArray(string key, int length)
    {
        if (Probe.Increment(key + ":runs") == 1)
        {
            throw new InvalidOperationException("first run fails");
        }

        return await GatedArray(key, length);
    }

    /// <summary>Holds its array argument while it waits for the gate.</summary>
    public static async Task<int> GatedLength(double[] values, string key)
    {
        Probe.Increment(key + ":started");
        await Probe.Gate(key);
        return values.Length;
    }

    /// <summary>Counts a run under <paramref name="key"/> once its dependency is there.</summary>
    public static int MarkRanAfter(int dependency, string key) => Probe.Increment(key) + dependency;

    /// <summary>Returns a ref the task's node owns (a nested task's result), inside a value.</summary>
    public static Holder WrapSquare(int x) => new("nested", Ray.Current.Task(Square, x).Remote());

    /// <summary>Returns the ref it was given inside a new value (the worker borrows it, then its result holds it).</summary>
    public static ArrayHolder Rewrap(ArrayHolder holder) => new(holder.Inner);

    /// <summary>Returns a ref to a nested task that is still waiting on <paramref name="key"/>'s gate, inside a value.</summary>
    public static Holder WrapBlocked(string key) => new("blocked", Ray.Current.Task(Blocker, key).Remote());

    /// <summary>Throws on its first run, waits for its token to be cancelled on its second, and answers its run's number after.</summary>
    public static async Task<int> FailThenWaitForCancel(string key, CancellationToken cancellation)
    {
        var run = Probe.Increment(key);
        if (run == 1)
        {
            throw new InvalidOperationException("first run fails");
        }

        if (run == 2)
        {
            Probe.Increment(key + ":waiting");
            await Task.Delay(Timeout.Infinite, cancellation);
        }

        return run;
    }

    public static async Task<int> WaitForCancel(string key, CancellationToken cancellation)
    {
        Probe.Increment(key + ":started");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellation);
        }
        catch (OperationCanceledException)
        {
            Probe.Increment(key + ":cancelled");
            throw;
        }

        return 0;
    }

    /// <summary>
    /// Takes <paramref name="mib"/> MiB of memory (every page written), then holds it until its gate opens or
    /// its token is cancelled; the memory is garbage once it returns.
    /// </summary>
    public static async Task<int> HoldMemory(string key, int mib, CancellationToken cancellation)
    {
        Probe.Increment(key + ":started");
        var blocks = new List<byte[]>();
        for (var i = 0; i < mib / 64; i++)
        {
            var block = GC.AllocateUninitializedArray<byte>(64 << 20);
            Array.Fill(block, (byte)1);
            blocks.Add(block);
        }

        Probe.Increment(key + ":holding");
        await Probe.Gate(key).WaitAsync(cancellation);
        return blocks.Count;
    }

    public static async Task<int> ParentOfWaiter(string key)
    {
        var child = Ray.Current.Task(WaitForCancel, key + ":child").Remote();
        return await child;
    }

    public static async IAsyncEnumerable<int> Produce(string key, int count, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        for (var i = 1; i <= count; i++)
        {
            await Task.Yield();
            Probe.Increment(key);
            yield return i * 10;
        }
    }

    public static async IAsyncEnumerable<int> ProduceThenFail(int good)
    {
        for (var i = 1; i <= good; i++)
        {
            await Task.Yield();
            yield return i;
        }

        throw new InvalidOperationException("generator broke");
    }

    public static async Task<int> UseCounterAsync(ActorHandle<Counter> counter, int amount) =>
        await counter.Task(c => c.Add(amount)).Remote();
}
