using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

[Collection(TwoNodeCollection.Name)]
public sealed class TaskTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task Tasks_run_on_both_nodes()
    {
        var nodes = await Ray.GetAsync(Enumerable.Range(0, 40).Select(i => Ray.Task(TestTasks.WhereAmISlowly, i).Remote()));
        var expected = (await Ray.NodesAsync()).Select(n => n.NodeId).ToHashSet();
        Assert.Equal(2, expected.Count);
        Assert.Equal(expected, nodes.ToHashSet());
    }

    [Fact]
    public async Task A_ref_argument_is_resolved_to_its_value()
    {
        ObjectRef<int> a = Ray.Task(TestTasks.Square, 4).Remote();
        ObjectRef<int> b = Ray.Task(TestTasks.Add, a, 1).Remote();
        var c = Ray.Task(TestTasks.Add, a, b).Remote();
        Assert.Equal(17, await b);
        Assert.Equal(33, await c);
    }

    [Fact]
    public async Task A_ref_nested_in_an_argument_stays_a_ref()
    {
        var inner = await Ray.PutAsync(40);
        Assert.Equal(45, await Ray.Task(TestTasks.ReadInner, new Holder("hello", inner)).Remote());
    }

    [Fact]
    public async Task Task_and_ValueTask_functions_are_awaited_on_the_worker()
    {
        Assert.Equal(14, await Ray.Task(TestTasks.DoubleAsync, 7).Remote());
        Assert.Equal(21, await Ray.Task(TestTasks.TripleAsync, 7).Remote());
    }

    [Fact]
    public async Task NumReturns_splits_a_tuple_into_refs()
    {
        var (sum, text) = Ray.Task(TestTasks.SumAndText, 2, 3).RemoteSplit();
        Assert.Equal(5, await sum);
        Assert.Equal("2+3", await text);
        Assert.NotEqual(sum.Id, text.Id);
    }

    [Fact]
    public async Task NumReturns_splits_an_array_into_one_object_per_item_and_a_wrong_length_fails_each_ref()
    {
        var words = Ray.Task(TestTasks.Words, 3_000).RemoteSplit(3_000);
        Assert.Equal(3_000, words.Select(w => w.Id).Distinct().Count());
        Assert.Equal("word2999", await words[^1]);
        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => $"word{i}"), await Ray.GetAsync(words));
        Assert.Equal("word0", await Ray.Task(TestTasks.Words, 1).RemoteSplit(1)[0]);

        var wrong = Ray.Task(TestTasks.Words, 2).RemoteSplit(3);
        foreach (var item in wrong)
        {
            var e = await Assert.ThrowsAnyAsync<RayException>(() => item.GetAsync(Wait.Deadline));
            Assert.Contains("exactly 3 items", e.Message);
            Assert.Contains("2 items", e.Message);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Task(TestTasks.Words, 1).RemoteSplit(0));
    }

    [Fact]
    public async Task A_task_given_thousands_of_refs_as_items_gets_their_values_once_all_are_ready()
    {
        // Puts and results of tasks still running, each its own argument (Ray's f.remote(*refs)).
        var items = new List<ObjectRef<int>>();
        for (var i = 0; i < 3_000; i++)
        {
            items.Add(i % 2 == 0 ? await Ray.PutAsync(i) : Ray.Task(TestTasks.SquareSlowly, i).Remote());
        }

        var expected = Enumerable.Range(0, 3_000).Sum(i => i % 2 == 0 ? (long)i : (long)i * i);
        Assert.Equal(expected, await Ray.Task(TestTasks.SumAll, items).Remote().GetAsync(Wait.Deadline));

        // A failed item fails the task, naming the failure; a null one is refused at the call, by position.
        var failed = Ray.Task(TestTasks.FailTimes, Probe.NewKey(), 5).Remote();
        var one = await Ray.PutAsync(1);
        var e = await Assert.ThrowsAnyAsync<RayException>(() => Ray.Task(TestTasks.SumAll, [one, failed]).Remote().GetAsync(Wait.Deadline));
        Assert.Contains("failure 1", e.Message);
        var nullItem = Assert.Throws<ArgumentNullException>(() => Ray.Task(TestTasks.SumAll, [one, null!]));
        Assert.Contains("Argument 2", nullItem.Message);
    }

    [Fact]
    public async Task A_custom_resource_pins_work_to_the_node_that_has_it()
    {
        var options = new TaskOptions { Resources = new Dictionary<string, double> { ["accel"] = 1 } };
        var nodes = await Ray.GetAsync(Enumerable.Range(0, 6).Select(i => Ray.Task(TestTasks.WhereAmI, i).Options(options).Remote()));
        var accelNode = (await Ray.NodesAsync()).Single(n => n.Total["accel"] > 0).NodeId;
        Assert.All(nodes, n => Assert.Equal(accelNode, n));
    }

    [Fact]
    public async Task An_infeasible_task_waits_says_why_and_shows_in_the_cluster_status()
    {
        var r = Ray.Task(TestTasks.Square, 3).Options(new TaskOptions { NumCpus = 64 }).Remote();
        var e = await Assert.ThrowsAsync<GetTimeoutException>(() => r.GetAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Contains("infeasible", e.Message);
        Assert.Contains("CPU: 64", e.Message);

        await Wait.UntilAsync(async () => (await Ray.ClusterStatusAsync()).Infeasible.Any(d => d.Demand[Messages.ResourceSet.Cpu] == 64),
            "the status lists the infeasible demand");
        var status = await Ray.ClusterStatusAsync();
        Assert.Equal(2, status.Nodes.Length);
        Assert.Contains(status.Infeasible, d => d.Demand[Messages.ResourceSet.Cpu] == 64 && d.Example!.Contains(nameof(TestTasks.Square)));

        // Cancelled, it stops waiting, and the status forgets it.
        await Ray.CancelAsync(r);
        await Assert.ThrowsAsync<TaskCancelledException>(() => r.GetAsync(Wait.Deadline));
        await Wait.UntilAsync(async () => !(await Ray.ClusterStatusAsync()).Infeasible.Any(d => d.Demand[Messages.ResourceSet.Cpu] == 64),
            "the status drops the cancelled demand");
    }

    [Fact]
    public async Task RetryExceptions_retries_up_to_MaxRetries()
    {
        var key = Probe.NewKey();
        var ok = Ray.Task(TestTasks.FailTimes, key, 2).Options(new TaskOptions { MaxRetries = 3, RetryExceptions = true }).Remote();
        Assert.Equal(3, await ok);

        var noRetry = Probe.NewKey();
        var failed = Ray.Task(TestTasks.FailTimes, noRetry, 1).Options(new TaskOptions { MaxRetries = 3 }).Remote();
        await Assert.ThrowsAsync<RayTaskException>(() => failed.GetAsync(Wait.Deadline));
        Assert.Equal(1, Probe.Count(noRetry));

        // A list of types retries those and the types derived from them (FailTimes throws InvalidOperationException).
        var listed = Probe.NewKey();
        var byBase = Ray.Task(TestTasks.FailTimes, listed, 2).Options(new TaskOptions { MaxRetries = 3, RetryExceptionTypes = [typeof(SystemException)] }).Remote();
        Assert.Equal(3, await byBase.GetAsync(Wait.Deadline));
        var other = Probe.NewKey();
        var notListed = Ray.Task(TestTasks.FailTimes, other, 2).Options(new TaskOptions { MaxRetries = 3, RetryExceptionTypes = [typeof(ArgumentException)] }).Remote();
        var e = await Assert.ThrowsAsync<RayTaskException>(() => notListed.GetAsync(Wait.Deadline));
        Assert.Equal(typeof(InvalidOperationException).FullName, e.RemoteExceptionType);
        Assert.Equal(1, Probe.Count(other));
        Assert.Throws<ArgumentException>(() => Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { RetryExceptionTypes = [typeof(string)] }));
    }

    [Fact]
    public async Task Nested_tasks_100_levels_deep_complete_on_2_cpu_nodes()
    {
        Assert.Equal(100, await Ray.Task(TestTasks.Nest, 100).Remote().GetAsync(TimeSpan.FromMinutes(2)));
    }

    [Fact]
    public async Task A_streaming_generator_yields_refs_in_order_with_backpressure()
    {
        var key = Probe.NewKey();
        const int window = 2;
        var values = new List<int>();
        var taken = 0;
        await foreach (var item in Ray.Task(TestTasks.Produce, key, 12).Options(new TaskOptions { GeneratorBackpressure = window }).Remote())
        {
            taken++;
            // The producer never runs more than the window ahead of what this consumer has taken (plus
            // the one value it may be making once the window opened).
            Assert.True(Probe.Count(key) <= taken + window + 1, $"produced {Probe.Count(key)} with {taken} taken");
            values.Add(await item);
        }

        Assert.Equal(Enumerable.Range(1, 12).Select(i => i * 10), values);
    }

    [Fact]
    public async Task A_failing_generator_delivers_its_values_then_the_error()
    {
        var values = new List<int>();
        var e = await Assert.ThrowsAsync<RayTaskException>(async () =>
        {
            await foreach (var item in Ray.Task(TestTasks.ProduceThenFail, 3).Options(new TaskOptions { GeneratorBackpressure = 0 }).Remote())
            {
                values.Add(await item);
            }
        });
        Assert.Equal([1, 2, 3], values);
        Assert.Equal("generator broke", e.RemoteMessage);
    }

    [Fact]
    public async Task Nodes_never_run_more_tasks_at_once_than_they_have_cpus()
    {
        // Nested gets release and take back CPUs; afterwards the accounting must still be exact.
        Assert.Equal(100, await Ray.Task(TestTasks.Nest, 100).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(Enumerable.Range(0, 8).Sum(i => i * i + 1), await Ray.Task(TestTasks.FanOutAndGet, 8).Remote().GetAsync(Wait.Deadline));

        var key = Probe.NewKey();
        var atOnce = await Ray.GetAsync(Enumerable.Range(0, 24).Select(_ => Ray.Task(TestTasks.Occupy, key).Remote()), Wait.Deadline);
        Assert.All(atOnce, n => Assert.InRange(n, 1, 2));
    }
}
