namespace RayOrleans.Benchmarks.Workloads;

/// <summary>The remote functions of Ray's microbenchmark (ray_perf.py), as public static methods.</summary>
public static class BenchTasks
{
    internal static readonly byte[] Ok = "ok"u8.ToArray();

    /// <summary>Ray's <c>small_value</c>: returns <c>b"ok"</c>.</summary>
    public static byte[] SmallValue() => Ok;

    /// <summary>A zeroed array of <paramref name="elements"/> longs (the object a cross-node read moves).</summary>
    public static long[] ZeroLongs(int elements) => new long[elements];

    /// <summary>The length of an array argument: reading the argument is the work.</summary>
    public static int LengthOf(long[] values) => values.Length;

    /// <summary>Ray's <c>do_put_small</c>: <paramref name="count"/> sequential puts of 0 from inside a task.</summary>
    public static async Task<int> PutSmall(int count)
    {
        var ray = Ray.Current;
        for (var i = 0; i < count; i++)
        {
            await ray.PutAsync(0).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>
    /// Ray's <c>do_put</c>: <paramref name="count"/> sequential puts of a zeroed int64 array of
    /// <paramref name="elements"/> items from inside a task. Each object is freed right after its put
    /// (see <see cref="ObjectFreeing"/>), as Ray frees it when the ref goes out of scope.
    /// </summary>
    public static async Task<int> PutLarge(int count, int elements)
    {
        var ray = Ray.Current;
        var source = ZeroArrays.Get(elements);
        for (var i = 0; i < count; i++)
        {
            var put = await ray.PutAsync(source).ConfigureAwait(false);
            await ObjectFreeing.FreeAsync(ray, put).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>Ray's <c>create_object_containing_ref</c>: puts <paramref name="count"/> ones and returns their refs in one object.</summary>
    public static async Task<List<ObjectRef<int>>> CreateObjectContainingRefs(int count)
    {
        var ray = Ray.Current;
        var refs = new List<ObjectRef<int>>(count);
        for (var i = 0; i < count; i++)
        {
            refs.Add(await ray.PutAsync(1).ConfigureAwait(false));
        }

        return refs;
    }

    /// <summary>
    /// Ray's n:n <c>work(actors)</c>: <paramref name="count"/> calls spread round-robin over
    /// <paramref name="actors"/>, then one get of them all.
    /// </summary>
    public static async Task<int> CallActors(ActorHandle<BenchActor>[] actors, int count)
    {
        var refs = new ObjectRef<byte[]>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = actors[i % actors.Length].Task(a => a.SmallValue()).Remote();
        }

        await Ray.Current.GetAsync(refs).ConfigureAwait(false);
        return count;
    }

    /// <summary>
    /// The many-arguments envelope test: one task given every ref as an argument of its own
    /// (<c>ray.Task(SumArrays, refs)</c>), each resolved to its value before it runs, like Ray's <c>f.remote(*refs)</c>.
    /// </summary>
    public static long SumArrays(int[][] arrays)
    {
        long sum = 0;
        foreach (var array in arrays)
        {
            foreach (var v in array)
            {
                sum += v;
            }
        }

        return sum;
    }

    /// <summary>The many-returns envelope test: <paramref name="count"/> arrays of <paramref name="elements"/> ints, one return each (<c>RemoteSplit(count)</c>).</summary>
    public static int[][] ManyReturnsAtOnce(int count, int elements) =>
        Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, elements).ToArray()).ToArray();

    /// <summary>The many-returns envelope test as a streaming generator: yields <paramref name="count"/> arrays of <paramref name="elements"/> ints.</summary>
    public static async IAsyncEnumerable<int[]> ManyReturns(int count, int elements)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.CompletedTask.ConfigureAwait(false);
            yield return Enumerable.Range(0, elements).ToArray();
        }
    }
}

/// <summary>
/// Shared zeroed arrays, so the gigabyte puts measure the put, not the allocator. Each is written once:
/// a large array fresh from the OS is untouched, every page of it the kernel's one shared zero page, and
/// copying out of that runs from cache at several times the machine's memory bandwidth.
/// </summary>
internal static class ZeroArrays
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, long[]> Arrays = new();

    public static long[] Get(int elements) => Arrays.GetOrAdd(elements, n => Touched(new long[n]));

    /// <summary>Writes every element, so each page is the array's own resident memory.</summary>
    public static long[] Touched(long[] array)
    {
        array.AsSpan().Fill(0);
        return array;
    }

    public static void Clear() => Arrays.Clear();
}
