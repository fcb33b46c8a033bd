using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;
using Xunit.Abstractions;

namespace RayOrleans.Tests;

/// <summary>
/// The autoscaler's drain end to end, on real processes: a head of no CPUs (so every task needs a worker the
/// autoscaler starts) and workers that are drained before they are stopped. Same-host shared memory is off
/// (<c>RAY_SAME_HOST_SHM=false</c>, which the workers inherit), so a node reading another's object pulls a copy, as
/// across hosts.
/// </summary>
public sealed class AutoscalerDrainTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Length = 200_000; // 1.6 MB: stored, not inline
    private const int SmallLength = 10; // inline: the value is in the directory record
    private readonly RayoSession _rayo = new("drain");
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"autoscaler-{Guid.NewGuid():N}.json");

    [Fact]
    public async Task A_worker_with_the_only_copies_is_drained_and_removed_and_its_objects_stay_readable_and_a_secondary_copy_is_dropped()
    {
        await using var ray = await StartAsync(drainTimeout: "00:01:00");

        // On the worker: a put by the task (owned by the worker's runtime, its ref returned to the driver) and a large
        // result (owned by the driver). Both only copies are in the worker's store.
        var inner = await ray.Task(DrainTasks.PutHere, Length).Remote().GetAsync();
        var made = ray.Task(DrainTasks.MakeLongs, Length).Remote();
        await ray.WaitAsync([made], timeout: TimeSpan.FromMinutes(1));

        // Small puts on the worker, returned to the driver: inline, so their values live only in their directory records
        // (and with their owner, the worker's runtime, which goes). Spread over the shards, some of those live on the
        // worker (shards are placed at random among the nodes not draining); the drain migrates them with their records.
        var worker = await ray.Task(TestTasks.HoldFor, 1).Remote().GetAsync();
        var small = await ray.Task(DrainTasks.PutManyHere, 16, SmallLength).Remote().GetAsync(); // one task: no queue for the autoscaler to add a node for
        var before = new Dictionary<ObjectId, ObjectRecordInfo>();
        await Wait.UntilAsync(async () =>
        {
            foreach (var r in small.Where(r => !before.ContainsKey(r.Id)))
            {
                if (await ray.Runtime.Directory(r.Id.TaskId).DescribeAsync(r.Id) is { Ready: true } record)
                {
                    before[r.Id] = record;
                }
            }

            return before.Count == small.Length;
        }, "the small puts are recorded in the directory");
        var onWorker = before.Values.Count(r => r.Shard == worker);
        output.WriteLine($"{onWorker} of {small.Length} small puts are recorded by a shard on the worker {worker}");
        Assert.True(onWorker > 0, "no directory shard used here lives on the worker: the test would not show the shards move");

        // Idle, it is drained: both objects move to the head, and only then is the worker stopped.
        await Wait.UntilAsync(async () =>
        {
            var status = await ray.ClusterStatusAsync();
            return status.Nodes.Length == 1 && status.Autoscaler!.Decisions.Any(d => d.Action == "terminate");
        }, "the worker is drained and stopped", TimeSpan.FromSeconds(90));
        var decisions = (await ray.ClusterStatusAsync()).Autoscaler!.Decisions;
        Log(decisions);
        Assert.Contains(decisions, d => d.Action == "drain" && d.Reason.Contains("objects in its store", StringComparison.Ordinal));
        var terminate = Assert.Single(decisions, d => d.Action == "terminate");
        Assert.Contains("moved 2 objects to other nodes, dropped 0 secondary copies", terminate.Reason);
        Assert.DoesNotContain(decisions, d => d.Action is "drain-cancelled" or "error" or "failed");

        // Moved, not lost: the driver reads both from the head (no rebuild: a put could not be made again).
        var expected = Enumerable.Range(0, Length).Select(DrainTasks.At).ToArray();
        Assert.Equal(expected, await ray.GetAsync(inner, TimeSpan.FromSeconds(30)));
        Assert.Equal(expected, await ray.GetAsync(made, TimeSpan.FromSeconds(30)));

        // The shards that lived on the worker migrated with their records: every small put is still recorded (its owner
        // and the driver's reference, now on a shard elsewhere) and readable, though its owner is gone with the worker.
        var expectedSmall = Enumerable.Range(0, SmallLength).Select(DrainTasks.At).ToArray();
        foreach (var r in small)
        {
            var record = await ray.Runtime.Directory(r.Id.TaskId).DescribeAsync(r.Id);
            Assert.NotNull(record);
            Assert.NotEqual(worker, record.Shard);
            Assert.Equal(before[r.Id].Owner, record.Owner); // the record itself, not one made again: a new shard knows no owner
            Assert.Contains(record.Holders.Keys, h => h.StartsWith("process:driver/", StringComparison.Ordinal)); // the worker's own holders went with it
            Assert.Equal(expectedSmall, await ray.GetAsync(r, TimeSpan.FromSeconds(30)));
        }

        // A new worker reads the moved object: it pulls a copy (secondary: the head has the primary). Drained, the
        // copy is dropped, not moved, and the object is still read from the head.
        Assert.Equal(expected.Sum(), await ray.GetAsync(ray.Task(DrainTasks.SumLongs, made).Remote(), TimeSpan.FromMinutes(1)));
        await Wait.UntilAsync(async () =>
        {
            var status = await ray.ClusterStatusAsync();
            return status.Nodes.Length == 1 && status.Autoscaler!.Decisions.Count(d => d.Action == "terminate") == 2;
        }, "the second worker is drained and stopped", TimeSpan.FromSeconds(90));
        decisions = (await ray.ClusterStatusAsync()).Autoscaler!.Decisions;
        Log(decisions);
        Assert.Contains("moved 0 objects to other nodes, dropped 1 secondary copies", decisions.Last(d => d.Action == "terminate").Reason);
        Assert.Equal(expected, await ray.GetAsync(made, TimeSpan.FromSeconds(30)));
        Assert.Equal(expected, await ray.GetAsync(inner, TimeSpan.FromSeconds(30)));
        await StopAsync(ray);
    }

    [Fact]
    public async Task A_drain_that_a_running_task_holds_past_the_deadline_is_cancelled_and_the_node_kept_then_removed_once_idle()
    {
        await using var ray = await StartAsync(drainTimeout: "00:00:03");
        var worker = await ray.Task(TestTasks.HoldFor, 10).Remote().GetAsync();

        // The moment the drain starts, a task pinned to the worker (hard affinity reaches a draining node) runs there
        // for longer than the drain's deadline.
        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Autoscaler!.Decisions.Any(d => d.Action == "drain"), "the worker's drain starts");
        var pinned = ray.Task(TestTasks.HoldFor, 8000).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(worker) }).Remote();

        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Autoscaler!.Decisions.Any(d => d.Action == "drain-cancelled"),
            "the drain is cancelled at its deadline", TimeSpan.FromSeconds(30));
        var status = await ray.ClusterStatusAsync();
        Log(status.Autoscaler!.Decisions);
        var cancelled = Assert.Single(status.Autoscaler.Decisions, d => d.Action == "drain-cancelled");
        Assert.Contains("DrainTimeout", cancelled.Reason);
        Assert.Contains("1 task running", cancelled.Reason);
        Assert.DoesNotContain(status.Autoscaler.Decisions, d => d.Action == "terminate");
        Assert.Contains(status.Nodes, n => n.NodeId == worker && !n.Draining);

        // Kept, it finishes the task; idle again, it is drained and stopped.
        Assert.Equal(worker, await ray.GetAsync(pinned, TimeSpan.FromSeconds(30)));
        await Wait.UntilAsync(async () =>
        {
            var now = await ray.ClusterStatusAsync();
            return now.Nodes.Length == 1 && now.Autoscaler!.Decisions.Any(d => d.Action == "terminate");
        }, "the worker is removed once idle", TimeSpan.FromSeconds(60));
        await StopAsync(ray);
    }

    /// <summary>A head of no CPUs with the autoscaler (one-CPU workers, short timings), and a driver connected to it.</summary>
    private async Task<Ray> StartAsync(string drainTimeout)
    {
        File.WriteAllText(_config, $$"""
            {
              "pollInterval": "00:00:00.500",
              "idleTimeout": "00:00:02",
              "scaleDownCooldown": "00:00:01",
              "launchTimeout": "00:01:30",
              "drainTimeout": "{{drainTimeout}}",
              "nodeTypes": [ { "name": "cpu-1", "resources": { "CPU": 1 }, "minWorkers": 0, "maxWorkers": 2 } ]
            }
            """);
        int siloPort = FreePort.Next(), gatewayPort = FreePort.Next(), httpPort = FreePort.Next();
        var head = await _rayo.RunAsync(new Dictionary<string, string> { ["RAY_SAME_HOST_SHM"] = "false" },
            "start", "--head", "--port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--dashboard-port", $"{httpPort}",
            "--num-cpus", "0", "--cluster-id", _rayo.ClusterId, "--object-store-dir", _rayo.StoreDirectory,
            "--code-dir", AppContext.BaseDirectory, "--autoscaler-config", _config);
        Assert.True(head.ExitCode == 0, head.ToString());
        var ray = await Ray.InitAsync($"127.0.0.1:{gatewayPort}", new RayInitOptions { ClusterId = _rayo.ClusterId });
        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Autoscaler is { NodeTypes.Length: 1 }, "the autoscaler publishes its state");
        return ray;
    }

    private async Task StopAsync(Ray ray)
    {
        await ray.DisposeAsync();
        var stop = await _rayo.RunAsync("stop", "--grace-period", "30");
        Assert.True(stop.ExitCode == 0, stop.ToString());
    }

    private void Log(IEnumerable<AutoscalerDecision> decisions)
    {
        foreach (var d in decisions)
        {
            output.WriteLine($"{d.Time:HH:mm:ss.fff} {d.Action} {d.Count} x {d.NodeType} [{string.Join(",", d.Instances)}]: {d.Reason}");
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _rayo.DisposeAsync();
        File.Delete(_config);
    }
}
