using System.Diagnostics;
using RayOrleans.Benchmarks.Workloads;

namespace RayOrleans.Benchmarks.Scenarios;

/// <summary>
/// Ray's single-node scalability envelope (release/benchmarks/README.md and
/// release/benchmarks/single_node/test_single_node.py): one timed run each, with the peak working set the
/// runner samples around it. Not part of the default run (<c>--envelope</c>). queued_tasks runs last: when it
/// cannot finish within <see cref="RunSettings.EnvelopeTimeLimit"/> it reports how far it got and leaves the
/// rest running.
/// </summary>
public static class EnvelopeScenarios
{
    public static IReadOnlyList<EnvelopeScenario> All { get; } =
    [
        new("many_args", "one task given 10,000 refs to put int[10,000] arrays as 10,000 arguments (Ray's f.remote(*refs)), resolved before it runs; it sums them",
            "10,000+ object args to one task", ManyArgs),
        new("many_returns", "one task with NumReturns = 3,000 (RemoteSplit of an int[10,000][] result): one object per return, then one get of them all",
            "3,000+ returns from one task", ManyReturns),
        new("many_returns_streaming", "3,000 returns of int[10,000] as a streaming generator (Ray's num_returns=\"streaming\"), consumed ref by ref",
            "3,000+ returns from one task", ManyReturnsStreaming),
        new("get_10k_objects", "put 10,000 int[10,000] arrays, then one get of them all",
            "10,000+ objects in one get", GetManyObjects),
        new("actors_10k", "create 10,000 actors (0 CPUs), call each once, get all; then kill them. Per actor: live managed heap after a full GC, and peak working-set growth while creating and calling",
            "10k+ actors (on 250+ nodes)", ManyActors),
        new("object_store_get", "put long[] arrays of 1 MiB and 1 GiB; view each in place (GetViewAsync + Dispose, median of 200) and get a copy (GetAsync); Buffer.MemoryCopy of the same 1 GiB in the same run as the ceiling",
            "same-node get of a 1 GiB object in microseconds, independent of size (our issue #4)", StoreGet),
        new("queued_tasks", "submit N no-op tasks at once, then one get of them all",
            "1,000,000 queued tasks in 184 s on m4.16xlarge", QueuedTasks),
    ];

    public static IReadOnlyList<SkippedScenario> Skipped { get; } =
    [
        new("large_object_100gib",
            "An object is one segment read as one span: at most Array.MaxLength bytes (about 2 GiB) until objects span several segments.", null),
    ];

    private static async Task<EnvelopeOutcome> StoreGet(ScenarioContext c)
    {
        var ray = c.Ray;
        var small = (1 << 20) / sizeof(long);
        var large = c.Pick((1 << 30) / sizeof(long), (1 << 30) / sizeof(long), (8 << 20) / sizeof(long));
        var source = new long[large];
        Array.Fill(source, 7L);
        var clock = Stopwatch.StartNew();
        var smallRef = await ray.PutAsync(source.AsSpan(0, small).ToArray());
        clock.Restart();
        var largeRef = await ray.PutAsync(source);
        var put = clock.Elapsed.TotalSeconds;

        var viewSmall = await MedianMicrosecondsAsync(() => ray.GetViewAsync(smallRef));
        var viewLarge = await MedianMicrosecondsAsync(() => ray.GetViewAsync(largeRef));
        bool inPlace;
        using (var view = await ray.GetViewAsync(largeRef))
        {
            inPlace = view.InPlace;
        }

        clock.Restart();
        var copy = await largeRef.GetAsync();
        var get = clock.Elapsed.TotalSeconds;
        var bytes = (double)large * sizeof(long);
        var memcpy = Enumerable.Range(0, 3).Select(_ => CopySeconds(source, copy)).Order().ElementAt(1);
        ray.Runtime.Free(smallRef.Id);
        ray.Runtime.Free(largeRef.Id);
        return new EnvelopeOutcome($"{bytes / (1 << 20):N0} MiB and 1 MiB", put + get, new Dictionary<string, double>
        {
            ["view_us_1mib"] = viewSmall,
            ["view_us_large"] = viewLarge,
            ["get_copy_gb_per_s"] = bytes / get / 1e9,
            ["put_gb_per_s"] = bytes / put / 1e9,
            ["memcpy_gb_per_s"] = bytes / memcpy / 1e9,
        }, inPlace ? null : "The driver has no node store here (--address): views read a copy pulled from the node.");

        static async Task<double> MedianMicrosecondsAsync(Func<Task<ObjectView<long>>> view)
        {
            var times = new double[200];
            for (var i = 0; i < times.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                (await view()).Dispose();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            Array.Sort(times);
            return times[times.Length / 2];
        }

        static unsafe double CopySeconds(long[] from, long[] to)
        {
            var start = Stopwatch.GetTimestamp();
            fixed (long* f = from, t = to)
            {
                Buffer.MemoryCopy(f, t, (long)to.Length * sizeof(long), (long)from.Length * sizeof(long));
            }

            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
    }

    private static async Task<EnvelopeOutcome> QueuedTasks(ScenarioContext c)
    {
        var ray = c.Ray;
        var count = c.Settings.QueuedTasks;
        var limit = c.Settings.EnvelopeTimeLimit;
        var clock = Stopwatch.StartNew();
        var refs = new ObjectRef<byte[]>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = ray.Task(BenchTasks.SmallValue).Remote();
        }

        var submitted = clock.Elapsed.TotalSeconds;

        // One get per ref, all at once (what Ray.GetAsync does), counted as they complete, so a run that
        // cannot finish in the time limit still says how far it got.
        var done = 0;
        var gets = refs.Select(r => r.GetAsync().ContinueWith(t => { _ = t.Result; Interlocked.Increment(ref done); }, TaskScheduler.Default)).ToArray();
        var all = Task.WhenAll(gets);
        var finished = await Task.WhenAny(all, Task.Delay(limit - clock.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero)) == all;
        await (finished ? all : Task.CompletedTask);
        var total = clock.Elapsed.TotalSeconds;
        var completed = Volatile.Read(ref done);
        if (!finished)
        {
            throw new TimeoutException(
                $"{completed:N0} of {count:N0} queued tasks completed within the {limit.TotalSeconds:0} s limit (submitting took {submitted:0.0} s, " +
                $"{completed / total:N0} tasks/s); the rest keep running in the background");
        }

        return new EnvelopeOutcome($"{count:N0} tasks", total, new Dictionary<string, double>
        {
            ["submit_s"] = submitted,
            ["tasks_per_s"] = count / total,
        });
    }

    private static async Task<EnvelopeOutcome> ManyArgs(ScenarioContext c)
    {
        var ray = c.Ray;
        var (count, elements) = c.Pick((10_000, 10_000), (10_000, 1_000), (100, 10));
        var array = Enumerable.Repeat(1, elements).ToArray();
        var clock = Stopwatch.StartNew();
        var refs = new ObjectRef<int[]>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = await ray.PutAsync(array);
        }

        var put = clock.Elapsed.TotalSeconds;
        var sum = await ray.Task(BenchTasks.SumArrays, refs).Remote();
        var total = clock.Elapsed.TotalSeconds;
        Check(sum == (long)count * elements, $"many_args summed {sum}, expected {(long)count * elements}");
        await FreeAsync(ray, refs);
        return new EnvelopeOutcome($"{count:N0} refs to int[{elements:N0}]", total, new Dictionary<string, double>
        {
            ["put_s"] = put,
            ["task_s"] = total - put,
        });
    }

    private static async Task<EnvelopeOutcome> ManyReturns(ScenarioContext c)
    {
        var ray = c.Ray;
        var (count, elements) = c.Pick((3_000, 10_000), (3_000, 1_000), (30, 10));
        var clock = Stopwatch.StartNew();
        var refs = ray.Task(BenchTasks.ManyReturnsAtOnce, count, elements).RemoteSplit(count);
        var values = await ray.GetAsync(refs);
        var total = clock.Elapsed.TotalSeconds;
        Check(values.Length == count && values.All(v => v.Length == elements && v[^1] == elements - 1), "many_returns got wrong values");
        Check(refs.Select(r => r.Id).Distinct().Count() == count, "many_returns got fewer distinct objects than returns");
        await FreeAsync(ray, refs);
        return new EnvelopeOutcome($"{count:N0} returns of int[{elements:N0}]", total, new Dictionary<string, double>
        {
            ["returns_per_s"] = count / total,
        });
    }

    private static async Task<EnvelopeOutcome> ManyReturnsStreaming(ScenarioContext c)
    {
        var ray = c.Ray;
        var (count, elements) = c.Pick((3_000, 10_000), (3_000, 1_000), (30, 10));
        var clock = Stopwatch.StartNew();
        var got = 0;
        var refs = new List<ObjectRef<int[]>>(count);
        await foreach (var item in ray.Task(BenchTasks.ManyReturns, count, elements).Remote())
        {
            var value = await item;
            Check(value.Length == elements && value[^1] == elements - 1, "many_returns_streaming got a wrong value");
            refs.Add(item);
            got++;
        }

        var total = clock.Elapsed.TotalSeconds;
        Check(got == count, $"many_returns_streaming got {got} items, expected {count}");
        await FreeAsync(ray, refs);
        return new EnvelopeOutcome($"{count:N0} returns of int[{elements:N0}]", total, new Dictionary<string, double>
        {
            ["returns_per_s"] = count / total,
        });
    }

    private static async Task<EnvelopeOutcome> GetManyObjects(ScenarioContext c)
    {
        var ray = c.Ray;
        var (count, elements) = c.Pick((10_000, 10_000), (10_000, 1_000), (100, 10));
        var array = Enumerable.Range(0, elements).ToArray();
        var clock = Stopwatch.StartNew();
        var refs = new ObjectRef<int[]>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = await ray.PutAsync(array);
        }

        var put = clock.Elapsed.TotalSeconds;
        var values = await ray.GetAsync(refs);
        var total = clock.Elapsed.TotalSeconds;
        Check(values.Length == count && values.All(v => v.Length == elements), "get_10k_objects got wrong values");
        await FreeAsync(ray, refs);
        return new EnvelopeOutcome($"{count:N0} objects of int[{elements:N0}]", total, new Dictionary<string, double>
        {
            ["put_s"] = put,
            ["get_s"] = total - put,
        });
    }

    private static async Task<EnvelopeOutcome> ManyActors(ScenarioContext c)
    {
        var ray = c.Ray;
        var count = c.Pick(10_000, 10_000, 20);
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        long workingSetGrowth;
        ActorHandle<BenchActor>[] actors;
        await using (var sampler = Measurement.WorkingSetSampler.StartNew())
        {
            actors = Enumerable.Range(0, count).Select(_ => ray.Actor(() => new BenchActor()).Remote()).ToArray();
            await ray.GetAsync(actors.Select(a => a.Task(x => x.SmallValue()).Remote()));
            workingSetGrowth = sampler.Peak - sampler.Start;
        }

        var total = clock.Elapsed.TotalSeconds;
        var managedAfter = GC.GetTotalMemory(forceFullCollection: true);
        clock.Restart();
        await Task.WhenAll(actors.Select(a => ray.KillAsync(a)));
        var kill = clock.Elapsed.TotalSeconds;
        return new EnvelopeOutcome($"{count:N0} actors", total, new Dictionary<string, double>
        {
            ["actors_per_s"] = count / total,
            ["managed_bytes_per_actor"] = (managedAfter - managedBefore) / (double)count,
            ["working_set_growth_bytes_per_actor"] = workingSetGrowth / (double)count,
            ["kill_s"] = kill,
        });
    }

    private static async Task FreeAsync<T>(Ray ray, IEnumerable<ObjectRef<T>> refs)
    {
        foreach (var chunk in refs.Chunk(1000))
        {
            await Task.WhenAll(chunk.Select(r => ObjectFreeing.FreeAsync(ray, r)));
        }
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
