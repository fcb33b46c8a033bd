using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RayOrleans.Hosting;
using RayOrleans.Tests.Fixtures;

namespace RayOrleans.Tests;

/// <summary>
/// The <c>rayo</c> command line run as real processes (<c>dotnet rayo.dll ...</c>), starting real silo
/// processes through it, each test in its own session folder. Whatever a session recorded is killed at
/// the end, whether the test passed or not.
/// </summary>
public sealed class CliTests : IAsyncLifetime
{
    private readonly RayoSession _rayo = new("cli");
    private string _session => _rayo.SessionDirectory;
    private string _store => _rayo.StoreDirectory;
    private string _clusterId => _rayo.ClusterId;

    [Fact]
    public async Task Start_head_and_worker_then_status_list_and_stop_see_and_end_both_silos()
    {
        int siloPort = FreePort.Next(), gatewayPort = FreePort.Next(), httpPort = FreePort.Next();
        var head = await RayoAsync(
            "start", "--head", "--port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--dashboard-port", $"{httpPort}",
            "--num-cpus", "1", "--cluster-id", _clusterId, "--object-store-dir", _store);
        Assert.True(head.ExitCode == 0, head.ToString());
        Assert.Contains($"cluster address:  127.0.0.1:{siloPort}", head.Stdout);
        Assert.Contains($"http://127.0.0.1:{httpPort}", head.Stdout);

        // A worker joins at the address the head printed, on free ports it picks itself.
        var worker = await RayoAsync(
            "start", "--address", $"127.0.0.1:{siloPort}", "--cluster-id", _clusterId, "--num-cpus", "2",
            "--resources", """{"cli_test": 3}""", "--object-store-dir", _store);
        Assert.True(worker.ExitCode == 0, worker.ToString());

        var recorded = SessionNodes();
        Assert.Equal(["head", "worker"], recorded.Select(n => n.Role).Order());
        Assert.All(recorded, n => Assert.True(IsRunning(n.Pid), $"silo {n.Pid} runs"));

        // status and list find the head through the session (no --address).
        await Wait.UntilAsync(async () =>
        {
            var status = await RayoAsync("status", "--json");
            return status.ExitCode == 0 && JsonDocument.Parse(status.Stdout).RootElement.GetProperty("nodes").GetArrayLength() == 2;
        }, "rayo status --json shows two nodes", TimeSpan.FromSeconds(60));

        var list = await RayoAsync("list", "nodes", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var nodes = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, nodes.Count);
        bool IsHead(JsonElement n) => n.GetProperty("nodeId").GetString()!.StartsWith($"127.0.0.1:{siloPort}@", StringComparison.Ordinal);
        var headNode = Assert.Single(nodes, IsHead);
        var workerNode = Assert.Single(nodes, n => !IsHead(n));
        Assert.Equal(1, headNode.GetProperty("total").GetProperty("amounts").GetProperty("CPU").GetDouble());
        Assert.Equal(2, workerNode.GetProperty("total").GetProperty("amounts").GetProperty("CPU").GetDouble());
        Assert.Equal(3, workerNode.GetProperty("total").GetProperty("amounts").GetProperty("cli_test").GetDouble());

        // The worker's own HTTP endpoint answers for the same cluster.
        var fromWorker = await RayoAsync("list", "nodes", "--json", "--address", recorded.Single(n => n.Role == "worker").HttpAddress);
        Assert.Equal(2, JsonDocument.Parse(fromWorker.Stdout).RootElement.GetArrayLength());

        // The human-readable status: Ray's layout, with the summed resources.
        var text = await RayoAsync("status");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("2 nodes", text.Stdout);
        Assert.Contains("0.0/3.0 CPU", text.Stdout);
        Assert.Contains("0.0/3.0 cli_test", text.Stdout);

        // A filter narrows the listing to the worker, by its node id.
        var filtered = await RayoAsync("list", "nodes", "--json", "--filter", $"nodeId={workerNode.GetProperty("nodeId").GetString()}");
        Assert.Single(JsonDocument.Parse(filtered.Stdout).RootElement.EnumerateArray());

        var stop = await RayoAsync("stop", "--grace-period", "30");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("Stopped 2 nodes.", stop.Stdout);
        await Wait.UntilAsync(() => recorded.All(n => !IsRunning(n.Pid)), "both silo processes are gone");
        Assert.Empty(SessionNodes());

        // With nothing left to ask, status fails with one line, not a stack trace.
        var after = await RayoAsync("status");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("cannot reach", after.Stderr);
        Assert.DoesNotContain("   at ", after.Stderr);
    }

    [Fact]
    public async Task A_head_that_cannot_start_prints_the_silos_error_exits_1_and_leaves_nothing_in_the_session()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var result = await RayoAsync(
            "start", "--head", "--port", $"{port}", "--gateway-port", $"{FreePort.Next()}", "--dashboard-port", $"{FreePort.Next()}",
            "--cluster-id", _clusterId, "--object-store-dir", _store);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"--silo-port: 127.0.0.1:{port} is not available", result.Stderr); // the silo's own line
        Assert.Contains("the node exited with code 1", result.Stderr);
        Assert.Empty(SessionNodes());
    }

    [Theory]
    [InlineData("--resources", "start --head --resources {bad", "--resources: '{bad' is not valid JSON")]
    [InlineData("--resources", "start --head --resources [1]", "--resources: '[1]' is not a JSON object")]
    [InlineData("--labels", "start --head --labels {\"zone\":1}", "--labels: 'zone' is 1; expected a string")]
    [InlineData("--num-cpus", "start --head --num-cpus abc", "--num-cpus: 'abc' is not a number")]
    [InlineData("both", "start --head --address 127.0.0.1:11111", "--head and --address exclude each other")]
    [InlineData("http", "start --address http://127.0.0.1:8265", "is an HTTP address")]
    [InlineData("no address", "start", "give --head to start a new cluster, or --address")]
    [InlineData("worker redis", "start --address 127.0.0.1:1 --redis-address 127.0.0.1:6379", "--redis-address is for a head")]
    [InlineData("autoscaler on a worker", "start --address 127.0.0.1:1 --autoscaler-config x.json", "--autoscaler-config is for a head")]
    [InlineData("autoscaler file", "start --head --autoscaler-config /no/such/autoscaler.json", "--autoscaler-config: '/no/such/autoscaler.json' is not a file")]
    [InlineData("grace", "stop --grace-period -1", "--grace-period: -1 is not a number of seconds")]
    [InlineData("kind", "list foo", "unknown list kind 'foo'")]
    [InlineData("filter", "list nodes --filter state", "--filter: 'state' is not key=value")]
    [InlineData("env", "job submit --env NOVALUE -- dotnet x.dll", "--env: 'NOVALUE' is not KEY=VALUE")]
    [InlineData("entrypoint", "job submit", "no entrypoint")]
    [InlineData("address", "status --address redis://127.0.0.1:6379", "is a cluster address")]
    [InlineData("unknown option", "status --bogus", "bogus")]
    public async Task Bad_input_exits_2_with_one_line_naming_the_problem(string what, string arguments, string message)
    {
        _ = what;
        var result = await RayoAsync(arguments.Split(' '));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Empty(SessionNodes());
    }

    [Fact]
    public async Task An_unreachable_address_exits_1_naming_it()
    {
        var port = FreePort.Next();
        var result = await RayoAsync("list", "actors", "--address", $"http://127.0.0.1:{port}");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"cannot reach http://127.0.0.1:{port}/", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--primary-silo nonsense", "--primary-silo (RAY_PRIMARY_SILO): 'nonsense' is not a silo endpoint")]
    [InlineData("--clustering redis --primary-silo 127.0.0.1:11111", "only --clustering localhost has a primary silo")]
    [InlineData("--http-listen-ip everywhere", "--http-listen-ip (RAY_HTTP_LISTEN_IP): 'everywhere' is not an IP address")]
    [InlineData("--kubernetes maybe", "--kubernetes (RAY_KUBERNETES): 'maybe' is not auto, true or false")]
    public async Task The_silo_host_rejects_a_bad_primary_silo_with_exit_2(string arguments, string message)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(Path.GetDirectoryName(RayoSession.RayoDll())!, "silo", "RayOrleans.Silo.dll"));
        foreach (var argument in arguments.Split(' '))
        {
            start.ArgumentList.Add(argument);
        }

        var result = await RayoSession.RunProcessAsync(start);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _rayo.DisposeAsync();

    private List<RayoSession.Node> SessionNodes() => _rayo.Nodes();

    private static bool IsRunning(int pid) => RayoSession.IsRunning(pid);

    private Task<RayoSession.Result> RayoAsync(params string[] arguments) => _rayo.RunAsync(arguments);
}
