using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

[Collection(TwoNodeCollection.Name)]
public sealed class CancellationTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task A_queued_task_that_is_cancelled_never_runs()
    {
        var key = Probe.NewKey();
        // Fill all four CPUs of the cluster, so the next task can only queue.
        var blockers = Enumerable.Range(0, 4).Select(_ => Ray.Task(TestTasks.Blocker, key).Remote()).ToList();
        ObjectRef<int> queued;
        try
        {
            await Wait.UntilAsync(() => Probe.Count(key + ":started") == 4, "four blockers run");
            queued = Ray.Task(TestTasks.MarkRan, key + ":ran").Remote();
            await Ray.CancelAsync(queued);
        }
        finally
        {
            Probe.Open(key); // never leave CPUs blocked for the tests that follow
        }

        await Ray.GetAsync(blockers, Wait.Deadline);

        await Assert.ThrowsAsync<TaskCancelledException>(() => queued.GetAsync(Wait.Deadline));
        // The CPUs are free again, and a task behind the cancelled one runs: the cancelled one did not.
        await Ray.Task(TestTasks.Square, 2).Remote().GetAsync(Wait.Deadline);
        Assert.Equal(0, Probe.Count(key + ":ran"));
    }

    [Fact]
    public async Task A_running_task_sees_its_token_cancelled()
    {
        var key = Probe.NewKey();
        var running = Ray.Task(TestTasks.WaitForCancel, key).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 1, "the task starts");
        await Ray.CancelAsync(running);
        await Assert.ThrowsAsync<TaskCancelledException>(() => running.GetAsync(Wait.Deadline));
        await Wait.UntilAsync(() => Probe.Count(key + ":cancelled") == 1, "the task sees its token cancelled");
    }

    [Fact]
    public async Task Recursive_cancel_reaches_the_tasks_a_task_submitted()
    {
        var key = Probe.NewKey();
        var parent = Ray.Task(TestTasks.ParentOfWaiter, key).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":child:started") == 1, "the child starts");
        await Ray.CancelAsync(parent, recursive: true);
        await Assert.ThrowsAsync<TaskCancelledException>(() => parent.GetAsync(Wait.Deadline));
        await Wait.UntilAsync(() => Probe.Count(key + ":child:cancelled") == 1, "the child sees its token cancelled");
    }
}
