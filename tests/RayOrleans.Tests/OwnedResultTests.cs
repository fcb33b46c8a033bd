using System.Runtime.CompilerServices;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// A small result that only its one ref holds lives in that ref, out of the owner's table (so it dies with the
/// ref in a young collection); every use that hands its id out puts it back in the table, where it is found by id.
/// </summary>
public sealed class OwnedResultTests
{
    private const int Size = 200 * 1024 / sizeof(double); // above the 100 KiB inline threshold: stored in shared memory

    [Fact]
    public async Task A_small_result_held_by_one_ref_leaves_the_owners_table_and_still_reads_waits_and_passes_on()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var owned = ray.Runtime.Owned;
        var baseline = owned.Count;

        var square = ray.Task(TestTasks.Square, 7).Remote();
        var put = await ray.PutAsync(5);
        Assert.Equal(49, await square.GetAsync(Wait.Deadline));
        Assert.False(owned.Owns(square.RawId));
        Assert.False(owned.Owns(put.RawId));
        Assert.Equal(baseline, owned.Count); // both live in their refs alone

        // Reads through the ref: a get, a batch get, a wait with and without a limit.
        Assert.Equal(49, await square);
        Assert.Equal(5, await put);
        Assert.Equal(new[] { 49, 49 }, await ray.GetAsync([square, square], Wait.Deadline));
        var ready = await ray.WaitAsync([square, put], numReturns: 2, timeout: TimeSpan.Zero);
        Assert.Equal(2, ready.Ready.Count);
        Assert.Equal(baseline, owned.Count);

        // Passed as an argument: its id is handed out, so it goes back in the table and the task reads it there.
        Assert.Equal(54, await ray.Task(TestTasks.Add, square, put).Remote().GetAsync(Wait.Deadline));
        Assert.True(owned.Owns(square.RawId));
        Assert.True(owned.Owns(put.RawId));

        // Written into a value (it escapes): a task reads it through the directory.
        var other = ray.Task(TestTasks.Square, 8).Remote();
        Assert.Equal(64, await other.GetAsync(Wait.Deadline));
        Assert.False(owned.Owns(other.RawId));
        Assert.Equal(64 + "wrapped".Length, await ray.Task(TestTasks.ReadInner, new Holder("wrapped", other)).Remote().GetAsync(Wait.Deadline));
        Assert.True(owned.Owns(other.RawId));
        GC.KeepAlive(square);
        GC.KeepAlive(put);
    }

    [Fact]
    public async Task A_stored_result_a_failed_one_and_one_whose_id_was_taken_while_pending_stay_in_the_table()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var owned = ray.Runtime.Owned;

        var stored = ray.Task(TestTasks.MakeArray, Size).Remote();
        Assert.Equal(Size, (await stored.GetAsync(Wait.Deadline)).Length);
        Assert.True(owned.Owns(stored.RawId)); // its copy is freed when its ref goes, and its lineage rebuilds it

        var failed = ray.Task(TestTasks.Fail, "on purpose").Remote();
        await Assert.ThrowsAsync<RayTaskException>(() => failed.GetAsync(Wait.Deadline));
        Assert.True(owned.Owns(failed.RawId));

        var key = Probe.NewKey();
        var blocked = ray.Task(TestTasks.Blocker, key).Remote();
        var id = blocked.Id; // whoever took it may look the object up by it once it is ready
        Probe.Open(key);
        await blocked.GetAsync(Wait.Deadline);
        Assert.True(owned.Owns(id));
    }

    [Fact]
    public async Task Results_held_only_by_their_refs_are_gone_with_them()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var owned = ray.Runtime.Owned;
        var baseline = owned.Count;
        Assert.Equal(1_000 * 999 * 2 / 2, await SubmitGetAndDropAsync(ray, 1_000));
        Assert.Equal(baseline, owned.Count);

        // Refs dropped while their results were pending: each entry keeps its ref until the result comes.
        var weak = DropPending(ray, 100);
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            owned.DrainReleases();
            return owned.Count == baseline && !weak.IsAlive;
        }, "the dropped results and their refs to go");
    }

    [Fact]
    public async Task Results_read_every_way_from_many_threads_at_once_all_read_right_and_leave_nothing_behind()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var owned = ray.Runtime.Owned;
        var baseline = owned.Count;
        var one = await ray.PutAsync(1);
        // Each way races the result's arrival: taking the id, waiting, passing it on, writing it into a value.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() => UseEveryWayAsync(ray, one, worker)))).WaitAsync(Wait.Deadline);
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            owned.DrainReleases();
            return owned.Count == baseline + 1; // the put, still held
        }, "every result's entry to go");
        GC.KeepAlive(one);
    }

    [Fact]
    public async Task Batch_gets_and_waits_over_the_same_pending_results_all_complete_even_after_one_timed_out()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var key = Probe.NewKey();
        var blocked = Enumerable.Range(0, 40).Select(_ => ray.Task(TestTasks.Blocker, key).Remote()).ToList();
        var squares = Enumerable.Range(0, 40).Select(i => ray.Task(TestTasks.Square, i).Remote()).ToList();
        var mixed = blocked.Zip(squares, (b, s) => new[] { b, s }).SelectMany(p => p).ToList();

        // A batch counts the pending results in one countdown; a timed-out batch leaves its countdown on them, so
        // every later batch finds them counted already and waits on each instead.
        var timeout = await Assert.ThrowsAsync<GetTimeoutException>(() => ray.GetAsync(blocked, TimeSpan.FromMilliseconds(50)));
        Assert.Contains(blocked[0].RawId.ToString(), timeout.Message);
        var first = ray.GetAsync(blocked, Wait.Deadline);
        var second = ray.GetAsync(mixed, Wait.Deadline);
        var some = ray.GetAsync(blocked.Take(5), Wait.Deadline);
        var waited = ray.WaitAsync(blocked, numReturns: blocked.Count, timeout: Wait.Deadline);
        Assert.False(first.IsCompleted || second.IsCompleted || some.IsCompleted || waited.IsCompleted);

        Probe.Open(key);
        Assert.All(await first, v => Assert.Equal(1, v));
        Assert.Equal(mixed.Select((_, k) => k % 2 == 0 ? 1 : (k / 2) * (k / 2)), await second);
        Assert.All(await some, v => Assert.Equal(1, v));
        Assert.Equal(blocked.Count, (await waited).Ready.Count);
    }

    private static async Task UseEveryWayAsync(Ray ray, ObjectRef<int> one, int worker)
    {
        for (var i = 0; i < 200; i++)
        {
            var x = worker * 1_000 + i;
            var result = ray.Task(TestTasks.Square, x).Remote();
            switch (i % 6)
            {
                case 0:
                    Assert.Equal(x * x, await result);
                    break;
                case 1:
                    Assert.Equal(result.RawId, result.Id);
                    Assert.Equal(x * x, await result.GetAsync(Wait.Deadline));
                    break;
                case 2:
                    Assert.Equal(x * x + 1, await ray.Task(TestTasks.Add, result, one).Remote().GetAsync(Wait.Deadline));
                    Assert.Equal(x * x, await result);
                    break;
                case 3:
                    Assert.Same(result, Assert.Single((await ray.WaitAsync([result], timeout: Wait.Deadline)).Ready));
                    Assert.Equal(x * x, await result);
                    break;
                case 4:
                    Assert.Equal(x * x + 1, await ray.Task(TestTasks.ReadInner, new Holder("x", result)).Remote().GetAsync(Wait.Deadline));
                    break;
                default:
                    Assert.Equal(new[] { x * x }, await ray.GetAsync([result], Wait.Deadline));
                    _ = result.Id; // after it was read: back into the table
                    Assert.Equal(x * x, await result);
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<long> SubmitGetAndDropAsync(Ray ray, int count)
    {
        var refs = Enumerable.Range(0, count).Select(i => ray.Task(TestTasks.Add, i, i).Remote()).ToList();
        return (await ray.GetAsync(refs, Wait.Deadline)).Sum(v => (long)v);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference DropPending(Ray ray, int count)
    {
        ObjectRef? last = null;
        for (var i = 0; i < count; i++)
        {
            last = ray.Task(TestTasks.SquareSlowly, i).Remote();
        }

        return new WeakReference(last);
    }
}
