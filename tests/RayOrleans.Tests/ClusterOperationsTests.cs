using System.Text.Json;
using Microsoft.Playwright;
using RayOrleans.Hosting;
using RayOrleans.Tests.Fixtures;
using static Microsoft.Playwright.Assertions;

namespace RayOrleans.Tests;

/// <summary>
/// Operating a cluster end to end, with real processes only: <c>rayo</c> starts a head and a worker, a job
/// is submitted from a working folder whose assemblies the silos have never seen, its logs are followed to
/// SUCCEEDED, its tasks and actor are listed, the dashboard shows it in a real browser, and <c>rayo stop</c>
/// leaves nothing running.
/// </summary>
public sealed class ClusterOperationsTests : IAsyncLifetime
{
    private readonly RayoSession _rayo = new("e2e");
    private readonly string _workingDir = Path.Combine(Path.GetTempPath(), $"rayo-job-{Guid.NewGuid():N}");

    [Fact]
    public async Task A_cli_started_cluster_runs_a_submitted_job_whose_code_it_never_saw_and_stops_clean()
    {
        int siloPort = FreePort.Next(), gatewayPort = FreePort.Next(), httpPort = FreePort.Next();
        var head = await _rayo.RunAsync(
            "start", "--head", "--port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--dashboard-port", $"{httpPort}",
            "--num-cpus", "2", "--cluster-id", _rayo.ClusterId, "--object-store-dir", _rayo.StoreDirectory);
        Assert.True(head.ExitCode == 0, head.ToString());
        var worker = await _rayo.RunAsync("start", "--address", $"127.0.0.1:{siloPort}", "--cluster-id", _rayo.ClusterId, "--num-cpus", "2",
            "--object-store-dir", _rayo.StoreDirectory);
        Assert.True(worker.ExitCode == 0, worker.ToString());
        await Wait.UntilAsync(async () =>
        {
            var status = await _rayo.RunAsync("status", "--json");
            return status.ExitCode == 0 && JsonDocument.Parse(status.Stdout).RootElement.GetProperty("nodes").GetArrayLength() == 2;
        }, "rayo status shows both nodes", TimeSpan.FromSeconds(60));

        // The job's folder: ClusterJob's build output, copied away from the repository; the silos were started
        // without any code directory, so its tasks and actor can only run from the code the driver ships.
        CopyFolder(ClusterJobOutput(), _workingDir);
        var address = $"http://127.0.0.1:{httpPort}";
        var submit = await _rayo.RunAsync("job", "submit", "--address", address, "--working-dir", _workingDir, "--", "dotnet", "ClusterJob.dll");
        Assert.True(submit.ExitCode == 0, submit.ToString());
        // The submission id comes first on stdout, then the driver's output as it is written (stderr has rayo's own lines).
        var jobId = submit.Stdout.Split('\n')[0].Trim();
        Assert.StartsWith("raysubmit_", jobId);
        Assert.Contains($"job {jobId} joined a cluster of 2 nodes", submit.Stdout);
        Assert.Contains("squares: 1,4,9,16,25,36,49,64", submit.Stdout);
        Assert.Contains("(Work.Square pid=", submit.Stdout); // the tasks' own output, sent back to the driver
        Assert.Contains("tally: 204", submit.Stdout);
        Assert.Contains("done", submit.Stdout);
        Assert.Contains($"Job '{jobId}' succeeded", submit.Stderr);

        var status = await _rayo.RunAsync("job", "status", jobId, "--address", address, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("SUCCEEDED", JsonDocument.Parse(status.Stdout).RootElement.GetProperty("status").GetString());

        // Its tasks and its actor, through the state API.
        var tasks = await _rayo.RunAsync("list", "tasks", "--address", address, "--filter", $"jobId={jobId}", "--filter", "name=Work.Square", "--json");
        Assert.True(tasks.ExitCode == 0, tasks.ToString());
        var rows = JsonDocument.Parse(tasks.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(8, rows.Count);
        Assert.All(rows, r => Assert.Equal("FINISHED", r.GetProperty("state").GetString()));
        var actors = await _rayo.RunAsync("list", "actors", "--address", address, "--filter", $"jobId={jobId}", "--json");
        Assert.True(actors.ExitCode == 0, actors.ToString());
        var tally = Assert.Single(JsonDocument.Parse(actors.Stdout).RootElement.EnumerateArray());
        Assert.Equal("cluster-job-tally", tally.GetProperty("name").GetString());
        Assert.Equal("DEAD", tally.GetProperty("state").GetString()); // a non-detached actor goes with its job

        // The dashboard shows the job as a person would see it.
        await using (var chromium = await HeadlessChromium.LaunchAsync())
        {
            var page = await chromium.Browser.NewPageAsync();
            await page.GotoAsync($"{address}/dashboard/jobs");
            await Expect(page.Locator("#jobs tbody tr", new() { HasText = jobId })).ToContainTextAsync("SUCCEEDED");
            await page.GotoAsync($"{address}/dashboard/tasks?jobId={jobId}");
            await Expect(page.Locator("body")).ToContainTextAsync("Work.Square");
        }

        // Its logs stay readable; the job and its driver are listed.
        var logs = await _rayo.RunAsync("job", "logs", jobId, "--address", address);
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Contains("tally: 204", logs.Stdout);
        var drivers = await _rayo.RunAsync("list", "drivers", "--address", address, "--filter", $"jobId={jobId}", "--json");
        Assert.True(drivers.ExitCode == 0, drivers.ToString());
        Assert.Equal("SUCCEEDED", Assert.Single(JsonDocument.Parse(drivers.Stdout).RootElement.EnumerateArray()).GetProperty("status").GetString());

        // A job stopped while it runs: its driver ends, and the actor it holds goes with it.
        var held = await _rayo.RunAsync("job", "submit", "--address", address, "--working-dir", _workingDir, "--no-wait", "--", "dotnet", "ClusterJob.dll", "--hold");
        Assert.True(held.ExitCode == 0, held.ToString());
        var heldId = held.Stdout.Trim();
        await Wait.UntilAsync(async () =>
        {
            var alive = await _rayo.RunAsync("list", "actors", "--address", address, "--filter", $"jobId={heldId}", "--filter", "state=ALIVE", "--json");
            return alive.ExitCode == 0 && JsonDocument.Parse(alive.Stdout).RootElement.GetArrayLength() == 1;
        }, "the held job's actor is alive", TimeSpan.FromSeconds(60));
        var stopJob = await _rayo.RunAsync("job", "stop", heldId, "--address", address);
        Assert.True(stopJob.ExitCode == 0, stopJob.ToString());
        var stoppedJobs = await _rayo.RunAsync("job", "list", "--address", address, "--json");
        Assert.Contains(JsonDocument.Parse(stoppedJobs.Stdout).RootElement.EnumerateArray(),
            j => j.GetProperty("submissionId").GetString() == heldId && j.GetProperty("status").GetString() == "STOPPED");
        var onlyStopped = await _rayo.RunAsync("list", "jobs", "--address", address, "--filter", "status=STOPPED", "--json");
        Assert.Equal(heldId, Assert.Single(JsonDocument.Parse(onlyStopped.Stdout).RootElement.EnumerateArray()).GetProperty("submissionId").GetString());
        await Wait.UntilAsync(async () =>
        {
            var dead = await _rayo.RunAsync("list", "actors", "--address", address, "--filter", $"jobId={heldId}", "--filter", "state=DEAD", "--json");
            return dead.ExitCode == 0 && JsonDocument.Parse(dead.Stdout).RootElement.GetArrayLength() == 1;
        }, "the stopped job's actor is killed", TimeSpan.FromSeconds(30));

        // Stopping the cluster leaves nothing running.
        var recorded = _rayo.Nodes();
        Assert.Equal(2, recorded.Count);
        var stop = await _rayo.RunAsync("stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.All(recorded, n => Assert.False(RayoSession.IsRunning(n.Pid), $"silo {n.Pid} ({n.Role}) still runs"));
        Assert.Empty(_rayo.Nodes());
        var driverPid = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("driverPid").GetInt32();
        Assert.False(RayoSession.IsRunning(driverPid), $"the job's driver {driverPid} still runs");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _rayo.DisposeAsync();
        if (Directory.Exists(_workingDir))
        {
            Directory.Delete(_workingDir, recursive: true);
        }
    }

    /// <summary>samples/ClusterJob as built beside this test run (the test project builds it first).</summary>
    private static string ClusterJobOutput()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "samples", "ClusterJob", "bin", here.Parent.Name, here.Name);
        return File.Exists(Path.Combine(path, "ClusterJob.dll")) ? path : throw new FileNotFoundException($"ClusterJob is not built at {path}.");
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
