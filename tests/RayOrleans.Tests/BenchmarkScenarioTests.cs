using RayOrleans.Benchmarks.Cli;
using RayOrleans.Benchmarks.Reporting;
using RayOrleans.Benchmarks.Scenarios;

namespace RayOrleans.Tests;

/// <summary>
/// Runs every benchmark scenario once at a tiny size on its own embedded cluster, so the benchmark program
/// cannot rot. Asserts that each runs and produces figures on both sides; nothing about time.
/// </summary>
public sealed class BenchmarkScenarioTests
{
    [Fact]
    public async Task Every_scenario_runs_once_at_tiny_size_with_its_baseline()
    {
        await using var ray = await Ray.InitAsync(new RayInitOptions { NumCpus = 2 });
        var runner = await ScenarioRunner.CreateAsync(ray, RunSettings.Tiny);
        Assert.Null(runner.BaselineUnavailable);

        var results = new List<ScenarioResult>();
        foreach (var name in ScenarioRunner.MicroNames.Concat(ScenarioRunner.EnvelopeNames).Concat(ScenarioRunner.Skipped.Select(s => s.Name)))
        {
            results.Add(await runner.RunAsync(name, TimeSpan.FromMinutes(1)));
        }

        var broken = results.Where(r => r.Status == "failed").Select(r => $"{r.Name}: {r.Reason}").ToList();
        Assert.True(broken.Count == 0, "scenarios failed:\n" + string.Join("\n", broken));
        foreach (var micro in results.Where(r => r.Group == "micro" && r.Status == "ok"))
        {
            Assert.True(micro.Ours is { Calls: 1 } && micro.Baseline is { Calls: 1 }, $"{micro.Name} measured no call on one side");
            Assert.NotNull(micro.Ray);
        }

        Assert.All(results.Where(r => r.Group == "envelope" && r.Status == "ok"), r => Assert.True(r.Seconds > 0, r.Name));
        Assert.Equal("ok", results.Single(r => r.Name == "placement_group_create_removal").Status);

        // The reports render from these results: JSON with every figure, and the page with one row per scenario.
        var report = new BenchmarkReport
        {
            Started = DateTimeOffset.Now, Command = "test", Machine = MachineInfo.Collect(), Mode = "tiny", WarmUpSeconds = 0, Trials = 1,
            MinTrialSeconds = 0, Cluster = "embedded", Results = results,
        };
        Assert.Contains("\"single_client_tasks_sync\"", report.ToJson());
        var page = Path.Combine(Path.GetTempPath(), $"benchmarks-{Guid.NewGuid():N}.md");
        try
        {
            MarkdownReport.Write(page, report);
            var text = await File.ReadAllTextAsync(page);
            Assert.All(results, r => Assert.Contains($"| {r.Name} |", text));
        }
        finally
        {
            File.Delete(page);
        }
    }

    [Fact]
    public void The_command_line_parses_names_and_options_and_names_a_bad_option()
    {
        var parsed = BenchmarkArguments.Parse(["single_client_tasks_sync", "--quick", "--trials", "3", "--json", "out.json", "--queued-tasks", "1,000"]);
        Assert.Equal(["single_client_tasks_sync"], parsed.Names);
        Assert.True(parsed.Quick);
        Assert.Equal(3, parsed.Trials);
        Assert.Equal(1000, parsed.QueuedTasks);
        Assert.Equal("out.json", parsed.JsonPath);
        Assert.Contains("--nope", Assert.Throws<ArgumentException>(() => BenchmarkArguments.Parse(["--nope"])).Message);
        Assert.Contains("--trials", Assert.Throws<ArgumentException>(() => BenchmarkArguments.Parse(["--trials", "0"])).Message);
    }
}
