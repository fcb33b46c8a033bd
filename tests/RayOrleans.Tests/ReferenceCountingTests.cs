using System.Runtime.CompilerServices;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Owned objects are freed when the last local reference goes (the refs are collected, and no task in flight
/// takes them); objects a ref escaped to are kept. An embedded cluster, so the driver's node store is in
/// reach; its store is small, so objects that were not freed would fill it within a few hundred puts.
/// </summary>
public sealed class ReferenceCountingTests
{
    private const int Size = 200 * 1024 / sizeof(double); // above the 100 KiB inline threshold: stored in shared memory

    [Fact]
    public async Task Ten_thousand_put_get_drop_cycles_leave_the_store_as_it_was()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2, ObjectStoreMemory = 64L << 20 });
        var store = ray.Runtime.LocalStore!;
        var owned = ray.Runtime.Owned.Count;
        var data = Enumerable.Range(0, Size).Select(i => (double)i).ToArray();
        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal(data[^1], await PutGetDropAsync(ray, data));
        }

        await CollectAsync(ray, () => store.Used == 0 && ray.Runtime.Owned.Count == owned, "the store and the owner's table to be back at their baseline");
        Assert.Equal(0, store.Count);
        Assert.Equal(0, ray.Runtime.Owned.Pressure); // what the refs told the GC they hold was taken back with them
    }

    [Fact]
    public async Task Stored_values_tell_the_GC_what_their_refs_hold_until_the_refs_go()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2, ObjectStoreMemory = 64L << 20 });
        var data = new double[Size];
        var refs = new List<ObjectRef<double[]>>();
        for (var i = 0; i < 5; i++)
        {
            refs.Add(await ray.PutAsync(data));
        }

        refs.Add(ray.Task(TestTasks.MakeArray, Size).Remote());
        await refs[^1].GetAsync(Wait.Deadline);
        Assert.Equal(6L * Size * sizeof(double), ray.Runtime.Owned.Pressure, tolerance: 6 * 64.0);
        refs.Clear();
        await CollectAsync(ray, () => ray.Runtime.Owned.Pressure == 0, "the pressure to be taken back once the refs went");
    }

    [Fact]
    public async Task Objects_whose_refs_escaped_inside_values_are_freed_when_their_containers_and_refs_go()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2, ObjectStoreMemory = 64L << 20 });
        var store = ray.Runtime.LocalStore!;
        var data = Enumerable.Range(0, Size).Select(i => (double)i).ToArray();
        for (var i = 0; i < 1_000; i++)
        {
            // The inner object escapes into its container, so the directory counts it: the container's
            // free and the last local ref each remove a holder, and the last one frees it.
            Assert.Equal(data[^1], await PutNestedGetDropAsync(ray, data));
        }

        // A task reads the inner ref out of its argument (the worker borrows it) and returns it inside its result.
        Assert.Equal(data[^1], await PassThroughTaskAsync(ray, data));
        await CollectAsync(ray, () => store.Used == 0 && store.Count == 0 && ray.Runtime.Owned.Count == 0 && ray.Runtime.Owned.BorrowedCount == 0,
            "the store and the owner's tables to be back at their baseline");
        await Wait.UntilAsync(async () => await DirectoryCountAsync(ray) == 0, "the directory to forget every object");
    }

    [Fact]
    public async Task A_task_result_dropped_before_the_task_finishes_is_freed_when_it_arrives()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var store = ray.Runtime.LocalStore!;
        var key = Probe.NewKey();
        SubmitAndDrop(ray, key);
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the task to start");
        // The pending entry keeps the dropped ref until the result comes (it decides then whether the value can
        // live in the ref alone); then the ref goes, and with it the stored result.
        Assert.Equal(1, ray.Runtime.Owned.Count);

        Probe.Open(key);
        await Wait.UntilAsync(() => Probe.Count(key + ":done") == 1, "the task to finish");
        await CollectAsync(ray, () => store.Used == 0 && store.Count == 0 && ray.Runtime.Owned.Count == 0, "its stored result and its entry to be freed after arrival");
    }

    [Fact]
    public async Task An_object_whose_ref_escaped_in_a_value_is_kept_and_one_passed_as_an_argument_is_kept_until_the_task_ends()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var store = ray.Runtime.LocalStore!;
        var escaped = await EscapeAsync(ray);
        var key = Probe.NewKey();
        var sum = PassAndDrop(ray, key);
        await CollectAsync(ray, () => Probe.Count(key + ":started") == 1, "the task to start");
        Assert.Equal(2, store.Count); // the escaped object, and the argument the running task holds

        Probe.Open(key);
        Assert.Equal(Size, await sum.GetAsync(Wait.Deadline));
        await CollectAsync(ray, () => store.Count == 1, "the argument to be freed once its task ended");
        Assert.Equal(Size, (await escaped.Inner.GetAsync(Wait.Deadline)).Length);
    }

    [Fact]
    public async Task An_argument_of_calls_to_an_actor_in_the_callers_process_is_held_until_they_end_or_the_actor_dies()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var store = ray.Runtime.LocalStore!;
        var actor = await ray.Actor(() => new Counter()).RemoteAsync();

        // Calls queued behind a blocked one hold their stored argument, though its only ref is gone (the actor
        // lives in this process: its calls go straight to its mailbox, and bring their holds back with the reply).
        var key = Probe.NewKey();
        var blocker = actor.Task(c => c.WaitFor(key)).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the blocking call to start");
        var counts = QueueWithDroppedArgument(ray, actor, 10);
        await CollectAsync(ray, () => store.Count == 1, "the argument to be stored");
        await CollectAsync(ray, () => true, "a collection with the argument's ref gone");
        Assert.Equal(1, store.Count); // still held by the queued calls

        Probe.Open(key);
        await blocker.GetAsync(Wait.Deadline);
        Assert.All(await ray.GetAsync(counts, Wait.Deadline), n => Assert.Equal(Size, n));
        await CollectAsync(ray, () => store.Count == 0 && store.Used == 0, "the argument to be freed once its calls ended");

        // Calls queued when the actor is killed fail with its death, and let their argument go.
        var second = Probe.NewKey();
        _ = actor.Task(c => c.WaitFor(second)).Remote();
        await Wait.UntilAsync(() => Probe.Count(second + ":started") == 1, "the second blocking call to start");
        counts = QueueWithDroppedArgument(ray, actor, 10);
        await CollectAsync(ray, () => store.Count == 1, "the second argument to be stored");
        await ray.KillAsync(actor);
        foreach (var count in counts)
        {
            await Assert.ThrowsAsync<ActorDiedException>(() => count.GetAsync(Wait.Deadline));
        }

        await CollectAsync(ray, () => store.Count == 0 && store.Used == 0, "the second argument to be freed once the actor died");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<ObjectRef<int>> QueueWithDroppedArgument(Ray ray, ActorHandle<Counter> actor, int calls)
    {
        var stored = ray.PutAsync(new long[Size]).GetAwaiter().GetResult();
        return Enumerable.Range(0, calls).Select(_ => actor.Task((c, v) => c.CountLongs(v), stored).Remote()).ToList();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<double> PutGetDropAsync(Ray ray, double[] data)
    {
        var stored = await ray.PutAsync(data);
        return (await stored.GetAsync())[^1];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<double> PutNestedGetDropAsync(Ray ray, double[] data)
    {
        var inner = await ray.PutAsync(data);
        var outer = await ray.PutAsync(new ArrayHolder(inner));
        var read = await outer.GetAsync();
        return (await read.Inner.GetAsync())[^1];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<double> PassThroughTaskAsync(Ray ray, double[] data)
    {
        var inner = await ray.PutAsync(data);
        var returned = await ray.Task(TestTasks.Rewrap, new ArrayHolder(inner)).Remote().GetAsync(Wait.Deadline);
        return (await returned.Inner.GetAsync())[^1];
    }

    private static async Task<int> DirectoryCountAsync(Ray ray)
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, ray.Runtime.Options.DirectoryShards)
            .Select(i => ray.Runtime.Grains.GetGrain<Grains.IObjectDirectoryGrain>(i).CountAsync()));
        return counts.Sum();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SubmitAndDrop(Ray ray, string key) => ray.Task(TestTasks.GatedArray, key, Size).Remote();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ObjectRef<int> PassAndDrop(Ray ray, string key)
    {
        var stored = ray.PutAsync(new double[Size]).GetAwaiter().GetResult();
        return ray.Task(TestTasks.GatedLength, stored, key).Remote();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<ArrayHolder> EscapeAsync(Ray ray)
    {
        var stored = await ray.PutAsync(new double[Size]);
        var holder = await ray.PutAsync(new ArrayHolder(stored));
        return await holder.GetAsync();
    }

    private static Task CollectAsync(Ray ray, Func<bool> condition, string what) =>
        Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            ray.Runtime.Owned.DrainReleases();
            return condition();
        }, what);
}
