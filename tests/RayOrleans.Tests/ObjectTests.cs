using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

[Collection(TwoNodeCollection.Name)]
public sealed class ObjectTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task A_loop_of_waits_without_a_timeout_takes_each_ref_as_it_becomes_ready_failures_included()
    {
        // Ray's wait loop: one more ready ref per call, no timeout. A failed task's ref is ready (its error is its value).
        var slow = Ray.Task(TestTasks.HoldFor, 3000).Remote();
        var failed = Ray.Task(TestTasks.Fail, "as planned").Remote();
        var quick = Enumerable.Range(0, 5).Select(i => Ray.Task(TestTasks.Square, i)).Select(f => (ObjectRef)f.Remote()).ToList();
        IReadOnlyList<ObjectRef> notReady = [slow, .. quick, failed];
        var order = new List<ObjectRef>();
        while (notReady.Count > 0)
        {
            var round = await Ray.WaitAsync(notReady).WaitAsync(Wait.Deadline);
            var one = Assert.Single(round.Ready);
            Assert.Equal(notReady.Count - 1, round.NotReady.Count);
            Assert.DoesNotContain(one, round.NotReady);
            order.Add(one);
            notReady = round.NotReady;
        }

        Assert.Equal(7, order.Distinct().Count());
        Assert.Same(slow, order[^1]); // the 3 s task is the last to be ready
        await Assert.ThrowsAsync<RayTaskException>(() => ((ObjectRef<int>)failed).GetAsync());
    }

    [Fact]
    public async Task User_types_round_trip_without_attributes()
    {
        Assert.Equal(new Point(2, 1), await Ray.Task(TestTasks.Mirror, new Point(1, 2)).Remote());

        var bag = new Bag { Names = ["a", "b"], Series = new() { ["x"] = [1.5, 2.5] }, Origin = new Point(3, 4) };
        var echoed = await Ray.Task(TestTasks.Echo, bag).Remote();
        Assert.Equal(bag.Names, echoed.Names);
        Assert.Equal(bag.Series["x"], echoed.Series["x"]);
        Assert.Equal(bag.Origin, echoed.Origin);

        var list = await (await Ray.PutAsync(new List<string> { "x", "y" }));
        Assert.Equal(["x", "y"], list);
        var dict = await (await Ray.PutAsync(new Dictionary<string, int> { ["k"] = 1 }));
        Assert.Equal(1, dict["k"]);
        Assert.Null(await (await Ray.PutAsync<string?>(null)));
    }

    [Fact]
    public async Task Put_and_get_many_preserve_order()
    {
        var refs = new List<ObjectRef<int>>();
        for (var i = 0; i < 50; i++)
        {
            refs.Add(await Ray.PutAsync(i));
        }

        Assert.Equal(Enumerable.Range(0, 50), await Ray.GetAsync(refs));
    }

    [Fact]
    public async Task A_large_object_moves_between_nodes_in_chunks()
    {
        const int n = 3_000_000; // 24 MB: above the inline limit, so it stays in its node's store
        var made = Ray.Task(TestTasks.MakeArray, n).Remote();
        var values = await made;
        Assert.Equal(n, values.Length);
        Assert.Equal(n - 1, values[^1]);
        // Summed on whichever node runs the task, reading the array from its producer.
        var sums = await Ray.GetAsync(Enumerable.Range(0, 4).Select(_ => Ray.Task(TestTasks.SumArray, made).Remote()));
        Assert.All(sums, s => Assert.Equal((double)n * (n - 1) / 2, s));

        var put = await Ray.PutAsync(values);
        Assert.Equal(values, await put);
    }

    [Fact]
    public async Task Get_with_a_timeout_throws_GetTimeoutException()
    {
        var key = Probe.NewKey();
        var blocked = Ray.Task(TestTasks.Blocker, key).Remote();
        try
        {
            var e = await Assert.ThrowsAsync<GetTimeoutException>(() => blocked.GetAsync(TimeSpan.FromMilliseconds(200)));
            Assert.Equal(blocked.Id, e.ObjectId);
        }
        finally
        {
            Probe.Open(key);
        }

        Assert.Equal(1, await blocked.GetAsync(Wait.Deadline));
    }

    [Fact]
    public async Task Wait_splits_ready_from_not_ready()
    {
        var key = Probe.NewKey();
        var slow = Ray.Task(TestTasks.Blocker, key).Remote();
        var fast = Ray.Task(TestTasks.Square, 5).Remote();
        var done = await Ray.PutAsync(1);

        try
        {
            var result = await Ray.WaitAsync<ObjectRef>([slow, fast, done], numReturns: 2, timeout: Wait.Deadline);
            Assert.Equal([fast.Id, done.Id], result.Ready.Select(r => r.Id));
            Assert.Equal([slow.Id], result.NotReady.Select(r => r.Id));

            var timedOut = await Ray.WaitAsync<ObjectRef>([slow, fast], numReturns: 2, timeout: TimeSpan.FromMilliseconds(200));
            Assert.Equal([fast.Id], timedOut.Ready.Select(r => r.Id));

            // Only the first numReturns ready refs count as ready; the rest, ready or not, are in NotReady.
            var first = await Ray.WaitAsync<ObjectRef>([done, slow, fast], numReturns: 1, timeout: Wait.Deadline);
            Assert.Equal([done.Id], first.Ready.Select(r => r.Id));
            Assert.Equal([slow.Id, fast.Id], first.NotReady.Select(r => r.Id));

            // Waits that end (timed out) leave nothing behind on the pending ref: a later wait still sees it finish.
            for (var i = 0; i < 50; i++)
            {
                Assert.Empty((await Ray.WaitAsync<ObjectRef>([slow], timeout: TimeSpan.Zero)).Ready);
            }
        }
        finally
        {
            Probe.Open(key);
        }

        var all = await Ray.WaitAsync<ObjectRef>([slow, fast], numReturns: 2, timeout: Wait.Deadline);
        Assert.Equal(2, all.Ready.Count);
    }

    [Fact]
    public async Task Wait_names_bad_input_and_takes_its_own_lists_back()
    {
        var done = await Ray.PutAsync(1);
        var other = await Ray.PutAsync(2);
        var same = await Assert.ThrowsAsync<ArgumentException>(() => Ray.WaitAsync<ObjectRef>([done, other, done]));
        Assert.Contains("same ref twice", same.Message);
        Assert.Contains("position 2", same.Message);
        var nulls = await Assert.ThrowsAsync<ArgumentException>(() => Ray.WaitAsync<ObjectRef>([done, null!]));
        Assert.Contains("null ref at position 1", nulls.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ray.WaitAsync<ObjectRef>([done], numReturns: 2));

        // The lists a wait returns are its own (read-only), and go back into the next wait as they are.
        var key = Probe.NewKey();
        var slow = Ray.Task(TestTasks.Blocker, key).Remote();
        try
        {
            var round = await Ray.WaitAsync<ObjectRef>([done, other, slow], timeout: Wait.Deadline);
            Assert.Equal([done.RawId], round.Ready.Select(r => r.RawId));
            Assert.IsNotType<List<ObjectRef>>(round.NotReady);
            var next = await Ray.WaitAsync(round.NotReady, numReturns: 1, timeout: Wait.Deadline);
            Assert.Equal([other.RawId], next.Ready.Select(r => r.RawId));
            var last = await Ray.WaitAsync(next.NotReady, numReturns: 1, timeout: TimeSpan.FromMilliseconds(100));
            Assert.Empty(last.Ready);
            Assert.Same(slow, Assert.Single(last.NotReady));
        }
        finally
        {
            Probe.Open(key);
        }

        Assert.Same(slow, Assert.Single((await Ray.WaitAsync<ObjectRef>([slow], timeout: Wait.Deadline)).Ready));
    }

    [Fact]
    public async Task A_driver_without_a_store_of_its_own_puts_its_large_values_into_one_node()
    {
        // As Ray's driver puts into its own node's store: that node's pooled segments then serve put after put.
        Assert.Null(Ray.Runtime.LocalStore);
        var data = Enumerable.Range(0, 200 * 1024 / sizeof(double)).Select(i => (double)i).ToArray();
        var refs = new List<ObjectRef<double[]>>();
        for (var i = 0; i < 8; i++)
        {
            refs.Add(await Ray.PutAsync(data));
        }

        var nodes = refs.Select(r => Ray.Runtime.Owned.TryGetReady(r.RawId, out var value) ? value.Location : null).ToList();
        Assert.All(nodes, Assert.NotNull);
        Assert.Single(nodes.Distinct());
        Assert.Equal(data[^1], (await refs[^1])[^1]);
    }
}
