using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Results live with the process that submitted them and reach the directory only when a ref escapes in a
/// value: these tests pass refs across processes' ownership at every stage (pending, ready, nested).
/// </summary>
[Collection(TwoNodeCollection.Name)]
public sealed class OwnershipTests(TwoNodeCluster fixture)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task A_pending_result_nested_in_a_value_reaches_the_task_that_reads_it()
    {
        var key = Probe.NewKey();
        var pending = Ray.Task(TestTasks.Blocker, key).Remote();
        var reader = Ray.Task(TestTasks.ReadInner, new Holder("abc", pending)).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the blocker to start", Limit);

        var early = await Ray.WaitAsync([reader], numReturns: 1, timeout: TimeSpan.FromMilliseconds(200));
        Assert.Empty(early.Ready); // the reader waits on the escaped ref, which has no value yet

        Probe.Open(key);
        Assert.Equal(1 + 3, await reader.GetAsync(Limit));
    }

    [Fact]
    public async Task A_ref_a_task_returns_inside_its_result_is_readable_by_the_driver()
    {
        var holder = await Ray.Task(TestTasks.WrapSquare, 9).Remote().GetAsync(Limit);
        Assert.Equal(81, await holder.Inner.GetAsync(Limit));
    }

    [Fact]
    public async Task A_nested_ref_that_was_pending_when_returned_resolves_once_its_task_finishes()
    {
        var key = Probe.NewKey();
        var holder = await Ray.Task(TestTasks.WrapBlocked, key).Remote().GetAsync(Limit);
        await Assert.ThrowsAsync<GetTimeoutException>(() => holder.Inner.GetAsync(TimeSpan.FromMilliseconds(200)));
        Probe.Open(key);
        Assert.Equal(1, await holder.Inner.GetAsync(Limit));
    }

    [Fact]
    public async Task A_task_cancelled_while_its_argument_is_pending_never_runs()
    {
        var gate = Probe.NewKey();
        var ran = Probe.NewKey();
        var dependency = Ray.Task(TestTasks.Blocker, gate).Remote();
        var dependent = Ray.Task(TestTasks.MarkRanAfter, dependency, ran).Remote();
        await Ray.CancelAsync(dependent);
        await Assert.ThrowsAsync<TaskCancelledException>(() => dependent.GetAsync(Limit));

        Probe.Open(gate);
        Assert.Equal(1, await dependency.GetAsync(Limit));
        // A later task through the same path has run; the cancelled one must not have.
        var after = Probe.NewKey();
        Assert.Equal(2, await Ray.Task(TestTasks.MarkRanAfter, dependency, after).Remote().GetAsync(Limit));
        Assert.Equal(0, Probe.Count(ran));
    }

    [Fact]
    public async Task Actor_calls_waiting_for_an_owned_argument_keep_their_order()
    {
        var key = Probe.NewKey();
        var counter = await Ray.Actor(() => new Counter()).RemoteAsync();
        var slow = Ray.Task(TestTasks.Blocker, key).Remote();
        var first = counter.Task((c, x) => c.Add(x), slow).Remote();   // waits for slow (1)
        var second = counter.Task(c => c.Add(10)).Remote();            // ready at once, but second in line
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the blocker to start", Limit);
        Assert.Empty((await Ray.WaitAsync([second], timeout: TimeSpan.FromMilliseconds(200))).Ready);

        Probe.Open(key);
        Assert.Equal(1, await first.GetAsync(Limit));
        Assert.Equal(11, await second.GetAsync(Limit));
    }

    [Fact]
    public async Task A_failed_owned_argument_fails_the_dependent_task_with_its_cause()
    {
        var failed = Ray.Task(TestTasks.Fail, "root cause").Remote();
        var dependent = Ray.Task(TestTasks.Add, failed, 1).Remote();
        var error = await Assert.ThrowsAsync<RayTaskException>(() => dependent.GetAsync(Limit));
        Assert.Contains("root cause", error.ToString());
    }
}
