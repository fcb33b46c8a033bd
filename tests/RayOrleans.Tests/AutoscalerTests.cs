using System.Text.Json;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;
using Xunit.Abstractions;

namespace RayOrleans.Tests;

/// <summary>
/// The autoscaler end to end with the LocalProcess provider: a head started by <c>rayo start --head
/// --autoscaler-config</c> runs it, and it starts and stops real worker silo processes for a driver's work.
/// </summary>
public sealed class AutoscalerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly RayoSession _rayo = new("autoscale");
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"autoscaler-{Guid.NewGuid():N}.json");

    [Fact]
    public async Task Twelve_one_cpu_tasks_add_up_to_three_workers_which_go_after_the_idle_timeout_and_an_infeasible_demand_starts_nothing()
    {
        // A short idle timeout and cool-down for the test; the type allows 3 workers of 2 CPUs.
        File.WriteAllText(_config, """
            {
              "provider": "LocalProcess",
              "pollInterval": "00:00:00.500",
              "idleTimeout": "00:00:04",
              "scaleDownCooldown": "00:00:02",
              "launchTimeout": "00:01:30",
              "nodeTypes": [ { "name": "cpu-2", "resources": { "CPU": 2 }, "minWorkers": 0, "maxWorkers": 3 } ]
            }
            """);
        int siloPort = FreePort.Next(), gatewayPort = FreePort.Next(), httpPort = FreePort.Next();
        var head = await _rayo.RunAsync(
            "start", "--head", "--port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--dashboard-port", $"{httpPort}",
            "--num-cpus", "2", "--cluster-id", _rayo.ClusterId, "--object-store-dir", _rayo.StoreDirectory,
            "--code-dir", AppContext.BaseDirectory, "--autoscaler-config", _config);
        Assert.True(head.ExitCode == 0, head.ToString());

        await using var ray = await Ray.InitAsync($"127.0.0.1:{gatewayPort}", new RayInitOptions { ClusterId = _rayo.ClusterId });
        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Autoscaler is { NodeTypes.Length: 1 }, "the autoscaler publishes its state");

        // A demand larger than any node type: reported as infeasible, and nothing starts for it.
        var tooBig = ray.Task(TestTasks.Square, 3).Options(new TaskOptions { NumCpus = 16 }).Remote();
        await Wait.UntilAsync(async () => (await ray.ClusterStatusAsync()).Autoscaler!.Infeasible.Any(d => d.Demand[ResourceSet.Cpu] == 16),
            "the autoscaler reports the 16-CPU demand as infeasible");
        var afterInfeasible = (await ray.ClusterStatusAsync()).Autoscaler!;
        Assert.Contains(afterInfeasible.Decisions, d => d.Action == "infeasible" && d.Reason.Contains("CPU: 16", StringComparison.Ordinal));
        Assert.DoesNotContain(afterInfeasible.Decisions, d => d.Action == "launch");
        Assert.Empty(afterInfeasible.Nodes);
        await ray.CancelAsync(tooBig);

        // Twelve tasks of one CPU, each holding it for 3 s: the 2-CPU head runs two, the rest wait, the autoscaler adds workers.
        var mostWorkers = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            // The most worker nodes the cluster ever had, read while the work runs (the status is the test's only view).
            while (!watching.IsCancellationRequested)
            {
                var nodes = (await ray.ClusterStatusAsync()).Nodes.Length - 1;
                mostWorkers = Math.Max(mostWorkers, nodes);
                await Task.Delay(100);
            }
        });
        var ran = await ray.GetAsync(Enumerable.Range(0, 12).Select(_ => ray.Task(TestTasks.HoldFor, 3000).Remote()), TimeSpan.FromMinutes(2));
        await watching.CancelAsync();
        await watcher;

        Assert.Equal(12, ran.Length);
        var during = (await ray.ClusterStatusAsync()).Autoscaler!;
        var launched = during.Decisions.Where(d => d.Action == "launch").ToList();
        Assert.NotEmpty(launched);
        Assert.All(launched, d => Assert.Equal("cpu-2", d.NodeType));
        Assert.InRange(launched.Sum(d => d.Count), 1, 3);
        Assert.InRange(mostWorkers, 1, 3);
        Assert.Contains("demands waiting", launched[0].Reason);
        Assert.True(ran.Distinct().Count() > 1, $"every task ran on one node: {string.Join(", ", ran.Distinct())}");

        // Idle for the timeout, the workers are stopped (SIGTERM: they leave the membership) and forgotten.
        await Wait.UntilAsync(async () =>
        {
            var status = await ray.ClusterStatusAsync();
            return status.Nodes.Length == 1 && status.Autoscaler!.Nodes.Length == 0;
        }, "the idle workers are gone", TimeSpan.FromSeconds(90));
        var after = (await ray.ClusterStatusAsync()).Autoscaler!;
        var terminated = after.Decisions.Where(d => d.Action == "terminate").ToList();
        var log = string.Join("\n", after.Decisions.Select(d => $"{d.Time:HH:mm:ss.fff} {d.Action} {d.Count} x {d.NodeType} [{string.Join(",", d.Instances)}]: {d.Reason}"));
        Assert.False(after.Decisions.Any(d => d.Action is "launch-failed" or "failed" or "error"), "a worker failed:\n" + log);
        Assert.True(launched.Sum(d => d.Count) == terminated.Count, $"launched {launched.Sum(d => d.Count)}, terminated {terminated.Count}:\n{log}");
        Assert.All(terminated, d => Assert.Contains("idle for", d.Reason));
        Assert.True(terminated.Min(d => d.Time) > launched.Max(d => d.Time), "nothing was removed before the last launch");

        // rayo status shows the autoscaler and its decisions with their reasons.
        var text = await _rayo.RunAsync("status");
        Assert.True(text.ExitCode == 0, text.ToString());
        output.WriteLine(text.Stdout);
        Assert.Contains("Autoscaler (LocalProcess", text.Stdout);
        Assert.Contains("cpu-2 {CPU: 2.0}: 0 running, 0 starting (min 0, max 3)", text.Stdout);
        Assert.Contains("terminate 1 x cpu-2", text.Stdout);
        var json = await _rayo.RunAsync("status", "--json");
        Assert.Equal("LocalProcess", JsonDocument.Parse(json.Stdout).RootElement.GetProperty("autoscaler").GetProperty("provider").GetString());

        await ray.DisposeAsync(); // the driver leaves before the cluster does
        var stop = await _rayo.RunAsync("stop", "--grace-period", "30");
        Assert.True(stop.ExitCode == 0, stop.ToString());
    }

    [Fact]
    public async Task A_bad_autoscaler_config_stops_the_head_with_exit_2_naming_the_switch()
    {
        File.WriteAllText(_config, """{ "nodeTypes": [ { "name": "cpu-2", "resources": { "CPU": 2 }, "maxWorkers": -1 } ] }""");
        var head = await _rayo.RunAsync(
            "start", "--head", "--port", $"{FreePort.Next()}", "--gateway-port", $"{FreePort.Next()}", "--dashboard-port", $"{FreePort.Next()}",
            "--cluster-id", _rayo.ClusterId, "--object-store-dir", _rayo.StoreDirectory, "--autoscaler-config", _config);
        Assert.True(head.ExitCode == 2, head.ToString());
        Assert.Contains("--autoscaler-config", head.Stderr);
        Assert.Contains("MaxWorkers (-1)", head.Stderr);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Kills the head's process tree, which holds the workers it started, whatever the test did.
        await _rayo.DisposeAsync();
        File.Delete(_config);
    }
}
