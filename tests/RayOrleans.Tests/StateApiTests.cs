using Microsoft.Extensions.DependencyInjection;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>The state API (Ray's ray.util.state): tasks by state with their history, actors, summaries.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class StateApiTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task Running_queued_and_finished_tasks_are_listed_with_their_job_node_and_times()
    {
        var key = Probe.NewKey();
        // Four CPUs in the cluster: four blockers run, two more wait for a CPU.
        var blocked = Enumerable.Range(0, 6).Select(_ => Ray.Task(TestTasks.Blocker, key).Remote()).ToList();
        await Wait.UntilAsync(() => Probe.Count(key + ":started") == 4, "four blockers run");

        var ids = blocked.Select(r => r.Id.TaskId).ToHashSet();
        var listed = (await Ray.ListTasksAsync(new TaskQuery { Name = "TestTasks.Blocker", Limit = 1000 })).Where(t => ids.Contains(t.TaskId)).ToList();
        Assert.Equal(6, listed.Count);
        Assert.Equal(4, listed.Count(t => t.State == TaskStates.Running));
        Assert.Equal(2, listed.Count(t => t.State == TaskStates.PendingNodeAssignment));
        Assert.All(listed, t =>
        {
            Assert.Equal(Ray.JobId, t.JobId);
            Assert.Equal(TaskKinds.NormalTask, t.Type);
            Assert.NotNull(t.NodeId);
            Assert.NotNull(t.CreationTime);
        });
        Assert.All(listed.Where(t => t.State == TaskStates.Running), t => Assert.NotNull(t.StartTime));

        Probe.Open(key);
        await Ray.GetAsync(blocked);
        var ended = (await Ray.ListTasksAsync(new TaskQuery { State = "finished", JobId = Ray.JobId, Limit = 10_000 })).Where(t => ids.Contains(t.TaskId)).ToList();
        Assert.Equal(6, ended.Count);
        Assert.All(ended, t => Assert.True(t.EndTime >= t.StartTime && t.StartTime >= t.CreationTime, $"times out of order: {t}"));

        var summary = await Ray.SummarizeTasksAsync();
        Assert.True(summary.Single(s => s.Name == "TestTasks.Blocker" && s.State == TaskStates.Finished).Count >= 6);
    }

    [Fact]
    public async Task A_task_retried_after_exceptions_has_a_row_per_attempt_with_the_reason()
    {
        var key = Probe.NewKey();
        var result = Ray.Task(TestTasks.FailTimes, key, 2).Options(new TaskOptions { MaxRetries = 3, RetryExceptions = true }).Remote();
        Assert.Equal(3, await result);

        var history = await Ray.GetTaskAsync(result);
        Assert.Equal([0, 1, 2], history.Select(t => t.Attempt));
        Assert.All(history.Take(2), t =>
        {
            Assert.Equal(TaskStates.Failed, t.State);
            Assert.True(t.Retried);
            Assert.Equal(typeof(InvalidOperationException).FullName, t.ErrorType);
            Assert.Contains("failure", t.ErrorMessage);
        });
        Assert.Equal(TaskStates.Finished, history[2].State);
        Assert.False(history[2].Retried);
    }

    [Fact]
    public async Task A_task_retried_by_its_node_then_cancelled_by_the_memory_monitor_numbers_each_attempt_once_and_counts_it_once()
    {
        var key = Probe.NewKey();
        var name = "TestTasks.FailThenWaitForCancel";
        var before = await CountsAsync();
        var result = Ray.Task(TestTasks.FailThenWaitForCancel, key).Options(new TaskOptions { MaxRetries = 3, RetryExceptions = true }).Remote();
        await Wait.UntilAsync(() => Probe.Count(key + ":waiting") == 1, "the node's own retry (attempt 1) runs");

        // Its node's memory monitor cancels it: the owner runs it again as attempt 2, after the node's retry.
        var schedulers = fixture.Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<LocalScheduler>()).ToList();
        Assert.Single(schedulers, s => s.CancelNewestRetryable("the test's memory pressure"));
        Assert.Equal(3, await result.GetAsync(Wait.Deadline));

        var history = await Ray.GetTaskAsync(result);
        Assert.Equal([0, 1, 2], history.Select(t => t.Attempt));
        Assert.Equal([TaskStates.Failed, TaskStates.Failed, TaskStates.Finished], history.Select(t => t.State));
        Assert.Equal([true, true, false], history.Select(t => t.Retried));
        Assert.Equal(typeof(NodeOutOfMemoryException).FullName, history[1].ErrorType);

        // Each attempt is counted once: two failures and one success more than before.
        var after = await CountsAsync();
        Assert.Equal(before.Failed + 2, after.Failed);
        Assert.Equal(before.Finished + 1, after.Finished);

        async Task<(long Failed, long Finished)> CountsAsync()
        {
            var summary = await Ray.SummarizeTasksAsync();
            return (summary.Where(s => s.Name == name && s.State == TaskStates.Failed).Sum(s => s.Count),
                    summary.Where(s => s.Name == name && s.State == TaskStates.Finished).Sum(s => s.Count));
        }
    }

    [Fact]
    public async Task A_failed_task_shows_its_error_and_nested_tasks_carry_the_job_and_parent()
    {
        var failed = Ray.Task(TestTasks.Fail, "state api").Remote();
        await Assert.ThrowsAsync<RayTaskException>(async () => await failed);
        var row = Assert.Single(await Ray.GetTaskAsync(failed));
        Assert.Equal(TaskStates.Failed, row.State);
        Assert.Equal(typeof(InvalidOperationException).FullName, row.ErrorType);
        Assert.False(row.Retried);

        var parent = Ray.Task(TestTasks.Nest, 2).Remote();
        Assert.Equal(2, await parent);
        var children = await Ray.ListTasksAsync(new TaskQuery { Name = "TestTasks.Nest", Limit = 10_000 });
        var child = Assert.Single(children, t => t.ParentTaskId == parent.Id.TaskId);
        Assert.Equal(Ray.JobId, child.JobId);
        Assert.Single(children, t => t.ParentTaskId == child.TaskId);
    }

    [Fact]
    public async Task Actors_are_listed_alive_then_dead_with_the_cause_and_their_calls_are_tasks()
    {
        var name = "state-" + Probe.NewKey();
        var counter = Ray.Actor(() => new Counter(5)).Options(new ActorOptions { Name = name, MaxRestarts = 1 }).Remote();
        var call = counter.Task(c => c.Add(1)).Remote();
        Assert.Equal(6, await call);

        var alive = Assert.Single(await Ray.ListActorsAsync(new ActorQuery { Name = name }));
        Assert.Equal("ALIVE", alive.State);
        Assert.Equal(counter.Id, alive.ActorId);
        Assert.Equal(typeof(Counter).FullName, alive.ClassName);
        Assert.Equal(Ray.JobId, alive.JobId);
        Assert.Equal(1, alive.MaxRestarts);
        Assert.NotNull(alive.Node);
        Assert.Contains(await Ray.ListActorsAsync(new ActorQuery { ClassName = "Counter", State = "alive", Limit = 10_000 }), a => a.ActorId == counter.Id);

        var callRow = Assert.Single(await Ray.GetTaskAsync(call));
        Assert.Equal(TaskKinds.ActorTask, callRow.Type);
        Assert.Equal(counter.Id.Value, callRow.ActorId);
        Assert.Equal(TaskStates.Finished, callRow.State);
        Assert.Equal("Counter.Add", callRow.Name);

        await Ray.KillAsync(counter);
        var dead = Assert.Single(await Ray.ListActorsAsync(new ActorQuery { Name = name, State = "DEAD" }));
        Assert.Contains("Kill(noRestart: true)", dead.DeathCause);
        Assert.NotNull(dead.EndTime);
    }

    [Fact]
    public void A_node_keeps_a_bounded_number_of_ended_attempts_and_counts_them_all()
    {
        var events = new TaskEvents(capacity: 100);
        for (var i = 0; i < 1000; i++)
        {
            events.Add(new TaskState
            {
                TaskId = Guid.NewGuid(), Attempt = 0, Name = i % 2 == 0 ? "Even" : "Odd", Type = TaskKinds.NormalTask,
                State = i % 10 == 0 ? TaskStates.Failed : TaskStates.Finished, EndTime = DateTime.UtcNow.AddTicks(i),
            });
        }

        var kept = events.Recent().ToList();
        Assert.Equal(100, kept.Count);
        Assert.True(kept.Zip(kept.Skip(1)).All(p => p.First.EndTime > p.Second.EndTime), "newest first");
        var summary = events.Summary().ToList();
        Assert.Equal(1000, summary.Sum(s => s.Count));
        Assert.Equal(100, summary.Where(s => s.State == TaskStates.Failed).Sum(s => s.Count));
        Assert.Equal(500, summary.Single(s => s.Name == "Odd" && s.State == TaskStates.Finished).Count);
        Assert.Equal(400, summary.Single(s => s.Name == "Even" && s.State == TaskStates.Finished).Count);
        Assert.Empty(new TaskEvents(capacity: 0).Recent());
    }

    [Fact]
    public async Task Ended_attempts_written_from_many_threads_are_listed_whole_and_counted_once()
    {
        // The ring keeps records as values, written and read without a lock (a per-slot version): a listing taken
        // while writers lap a small ring must never show a record mixed from two attempts.
        var events = new TaskEvents(capacity: 8);
        using var stop = new CancellationTokenSource();
        var torn = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var row in events.Recent())
                {
                    // Each writer encodes its attempt number into the id, name and error: all three must agree.
                    var attempt = row.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (row.Name != "T" + attempt || row.ErrorMessage != attempt || row.TaskId != new Guid(row.Attempt, 0, 0, new byte[8]))
                    {
                        Interlocked.Increment(ref torn);
                    }
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var attempt = w * 20_000 + i;
                var text = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
                events.Add(new TaskEvents.Ended
                {
                    TaskId = new Guid(attempt, 0, 0, new byte[8]), Attempt = attempt, Name = "T" + text, Type = TaskKinds.NormalTask,
                    State = TaskStates.Failed, JobId = "", ErrorMessage = text,
                });
            }
        })));
        stop.Cancel();
        await reader;

        Assert.Equal(0, torn);
        Assert.Equal(80_000, events.Recorded);
        Assert.Equal(80_000, events.Summary().Sum(s => s.Count));
        Assert.Equal(8, events.Recent().Count());
    }
}
