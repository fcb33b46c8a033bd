using System.Collections.Concurrent;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>Task and actor output reaches the driver (Ray's log_to_driver) and is kept per job.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class TaskLogTests(TwoNodeCluster fixture)
{
    [Fact]
    public async Task What_tasks_and_actors_print_reaches_their_driver_prefixed_and_is_kept_for_the_job()
    {
        var lines = new ConcurrentQueue<LogLine>();
        var job = "logs-" + Probe.NewKey()[..8];
        await using var ray = await Ray.AttachAsync(fixture.Cluster.Client, new RayInitOptions { JobId = job, OnTaskLog = lines.Enqueue });
        var nodes = (await ray.NodesAsync()).Select(n => n.NodeId).ToHashSet();

        Assert.Equal(5, await ray.Task(TestTasks.Shout, "hello").Remote());
        var counter = ray.Actor(() => new Counter(7)).Remote();
        Assert.Equal(7, await counter.Task(c => c.Say("hi")).Remote());

        try
        {
            await Wait.UntilAsync(() => lines.Count(l => l.Source == "TestTasks.Shout") >= 4 && lines.Any(l => l.Source == "Counter.Say"), "the lines reach the driver");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The lines did not all reach the driver; it got: {string.Join(" | ", lines)}; the job's kept log: {string.Join(" | ", (await ray.JobLogsAsync()).Lines.Select(l => l.ToString()))}");
        }

        Assert.Equal(4, lines.Count(l => l.Source == "TestTasks.Shout"));
        var shouted = lines.Where(l => l.Source == "TestTasks.Shout").ToList();
        Assert.Contains(shouted, l => l is { Text: "out:hello", IsError: false });
        Assert.Contains(shouted, l => l is { Text: "err:hello", IsError: true });
        Assert.Contains(shouted, l => l is { Text: "[Warning] Shouter: warn:hello", IsError: true });
        Assert.Contains(shouted, l => l is { Text: "tail:hello" }); // a last line without a newline is sent when the task ends
        Assert.All(shouted, l => Assert.Contains(l.NodeId, nodes));
        var said = Assert.Single(lines, l => l.Source == "Counter.Say");
        Assert.Equal("counter says hi", said.Text);
        Assert.StartsWith("(Counter.Say pid=", said.ToString());

        // The cluster keeps the job's output for readers that come later.
        var tail = await ray.JobLogsAsync();
        Assert.Contains(tail.Lines, l => l.Text == "out:hello");
        Assert.Contains(tail.Lines, l => l.Text == "counter says hi");

        // Another job's driver does not see them.
        Assert.DoesNotContain((await fixture.Ray.JobLogsAsync()).Lines, l => l.Text == "out:hello");
        await ray.KillAsync(counter);
    }

    [Fact]
    public async Task A_driver_prints_each_line_once_when_batches_come_out_of_order_or_twice()
    {
        var printed = new List<string>();
        var subscription = new Logs.JobLogSubscription(fixture.Ray.Runtime.Grains, "ordering", l => printed.Add(l.Text), null, () => []);
        static LogLine[] Lines(params string[] texts) => texts.Select(t => new LogLine { Source = "T", NodeId = "n", Text = t }).ToArray();
        var epoch = Guid.NewGuid();

        await subscription.OnLinesAsync(Lines("e", "f"), 4, epoch);       // a later batch first
        await subscription.OnLinesAsync(Lines("a", "b", "c", "d"), 0, epoch); // then the one it overtook
        await subscription.OnLinesAsync(Lines("c", "d", "e"), 2, epoch);    // and a repeat of lines already printed
        await subscription.OnLinesAsync(Lines("g"), 6, epoch);
        Assert.Equal(["e", "f", "a", "b", "c", "d", "g"], printed);

        // A new activation of the grain numbers from 0 again.
        await subscription.OnLinesAsync(Lines("h"), 0, Guid.NewGuid());
        Assert.Equal("h", printed[^1]);
    }
}
