using System.Diagnostics;
using System.Text;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary><c>rayo autoscaler</c>: the autoscaler as its own process, an Orleans client of a cluster whose head runs none.</summary>
public sealed class AutoscalerProcessTests : IAsyncLifetime
{
    private readonly RayoSession _rayo = new("autoscaler-process");
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"autoscaler-{Guid.NewGuid():N}.json");
    private Process? _autoscaler;

    [Fact]
    public async Task Rayo_autoscaler_joins_the_cluster_publishes_its_state_logs_a_decision_and_stops_cleanly_on_sigterm()
    {
        File.WriteAllText(_config, """
            { "pollInterval": "00:00:00.500", "nodeTypes": [ { "name": "cpu-2", "resources": { "CPU": 2 }, "maxWorkers": 2 } ] }
            """);
        int siloPort = FreePort.Next(), gatewayPort = FreePort.Next(), httpPort = FreePort.Next();
        var head = await _rayo.RunAsync(
            "start", "--head", "--port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--dashboard-port", $"{httpPort}",
            "--num-cpus", "1", "--cluster-id", _rayo.ClusterId, "--object-store-dir", _rayo.StoreDirectory);
        Assert.True(head.ExitCode == 0, head.ToString());

        // Its address, gateway and cluster id come from the session's head.
        var start = _rayo.Start(new Dictionary<string, string>(), "autoscaler", "--config", _config, "--code-dir", AppContext.BaseDirectory);
        start.RedirectStandardInput = true;
        _autoscaler = Process.Start(start)!;
        var log = new StringBuilder();
        void Append(object _, DataReceivedEventArgs e)
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
        }

        string Log()
        {
            lock (log)
            {
                return log.ToString();
            }
        }

        _autoscaler.OutputDataReceived += Append;
        _autoscaler.ErrorDataReceived += Append;
        _autoscaler.BeginOutputReadLine();
        _autoscaler.BeginErrorReadLine();
        await Wait.UntilAsync(() => Task.FromResult(Log().Contains("Autoscaler started: provider LocalProcess", StringComparison.Ordinal) || _autoscaler.HasExited),
            "rayo autoscaler starts");
        Assert.False(_autoscaler.HasExited, Log());

        // A demand no node type can hold: the round reads it, logs the decision and publishes it for the status.
        await using var ray = await Ray.InitAsync($"127.0.0.1:{gatewayPort}", new RayInitOptions { ClusterId = _rayo.ClusterId });
        var tooBig = ray.Task(TestTasks.Square, 3).Options(new TaskOptions { NumCpus = 16 }).Remote();
        await Wait.UntilAsync(() => Task.FromResult(Log().Contains("Autoscaler infeasible", StringComparison.Ordinal)), "the autoscaler logs the infeasible demand");
        Assert.Contains("CPU: 16", Log());
        // The round logs its decisions as it makes them and publishes its state when it ends: wait for that.
        Messages.AutoscalerState? state = null;
        await Wait.UntilAsync(async () =>
        {
            state = (await ray.ClusterStatusAsync()).Autoscaler;
            return state?.Decisions.Any(d => d.Action == "infeasible") == true;
        }, "the autoscaler publishes its state with the infeasible decision");
        Assert.Equal("LocalProcess", state!.Provider);
        await ray.CancelAsync(tooBig);

        using (var term = Process.Start("kill", ["-TERM", $"{_autoscaler.Id}"]))
        {
            await term.WaitForExitAsync();
        }

        await _autoscaler.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(_autoscaler.ExitCode == 0, $"exit {_autoscaler.ExitCode}\n{Log()}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_autoscaler is { HasExited: false })
        {
            _autoscaler.Kill(entireProcessTree: true);
        }

        _autoscaler?.Dispose();
        await _rayo.DisposeAsync();
        File.Delete(_config);
    }
}
