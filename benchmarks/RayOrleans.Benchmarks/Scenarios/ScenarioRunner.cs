using System.Diagnostics;
using RayOrleans.Benchmarks.Baseline;
using RayOrleans.Benchmarks.Measurement;

namespace RayOrleans.Benchmarks.Scenarios;

/// <summary>
/// Runs scenarios by name against one driver: prepares the workload, times our side and then the raw-Orleans
/// baseline with the same trial plan, and samples the working set meanwhile. Usable as a library (the tests
/// run every scenario once at <see cref="RunSettings.Tiny"/> size on their own cluster).
/// </summary>
public sealed class ScenarioRunner
{
    private readonly ScenarioContext _context;

    private ScenarioRunner(ScenarioContext context) => _context = context;

    /// <summary>The micro scenarios in Ray's order.</summary>
    public static IReadOnlyList<string> MicroNames { get; } = MicroScenarios.All.Select(s => s.Name).ToList();

    public static IReadOnlyList<string> EnvelopeNames { get; } = EnvelopeScenarios.All.Select(s => s.Name).ToList();

    public static IReadOnlyList<SkippedScenario> Skipped { get; } = [.. MicroScenarios.Skipped, .. EnvelopeScenarios.Skipped];

    /// <summary>Why the baseline cannot run; null when it can.</summary>
    public string? BaselineUnavailable => _context.BaselineUnavailable;

    /// <summary>
    /// A runner over <paramref name="ray"/>. The baseline grains are reached through the grain factory of the
    /// driver's own runtime; if they do not answer (an external cluster whose silos lack this assembly) the
    /// baseline is reported as unavailable.
    /// </summary>
    public static async Task<ScenarioRunner> CreateAsync(Ray ray, RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(ray);
        ArgumentNullException.ThrowIfNull(settings);
        IGrainFactory? grains = ray.Runtime.Grains;
        string? unavailable = null;
        try
        {
            await grains.GetGrain<IBaselineGrain>(0).Get().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            unavailable = $"the baseline grain did not answer ({e.GetType().Name}: {e.Message}); run the silos with this assembly loaded";
            grains = null;
        }

        return new ScenarioRunner(new ScenarioContext(ray, settings, grains, unavailable));
    }

    /// <summary>
    /// Untimed warm-up of the whole process for <see cref="RunSettings.ProcessWarmUp"/>: tasks, actor calls,
    /// puts and gets on our side and the matching grain calls, alternating, both sequential and 100 at once.
    /// </summary>
    public async Task WarmUpProcessAsync()
    {
        var ray = _context.Ray;
        var actor = await ray.Actor(() => new Workloads.BenchActor()).RemoteAsync().ConfigureAwait(false);
        var value = await ray.PutAsync(0).ConfigureAwait(false);
        var grains = _context.Grains;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < _context.Settings.ProcessWarmUp)
        {
            await ray.GetAsync(ray.Task(Workloads.BenchTasks.SmallValue).Remote()).ConfigureAwait(false);
            await ray.GetAsync(Enumerable.Range(0, 100).Select(_ => ray.Task(Workloads.BenchTasks.SmallValue).Remote())).ConfigureAwait(false);
            await ray.GetAsync(Enumerable.Range(0, 100).Select(_ => actor.Task(a => a.SmallValue()).Remote())).ConfigureAwait(false);
            await ray.GetAsync(value).ConfigureAwait(false);
            await ray.PutAsync(0).ConfigureAwait(false);
            if (grains is not null)
            {
                await grains.GetGrain<IBaselineGrain>(1).SmallValue().ConfigureAwait(false);
                await Task.WhenAll(Enumerable.Range(0, 100).Select(i => grains.GetGrain<IBaselineGrain>(1 + i).SmallValue())).ConfigureAwait(false);
                await grains.GetGrain<IBaselineGrain>(0).Get().ConfigureAwait(false);
            }
        }

        await ray.KillAsync(actor).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="name"/> is a scenario this program knows (run or skipped).</summary>
    public static bool IsKnown(string name) =>
        MicroNames.Contains(name) || EnvelopeNames.Contains(name) || Skipped.Any(s => s.Name == name);

    /// <summary>Runs one scenario; a failure becomes a result with status "failed", never an exception.</summary>
    public async Task<ScenarioResult> RunAsync(string name, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(15);
        if (Skipped.FirstOrDefault(s => s.Name == name) is { } skipped)
        {
            return new ScenarioResult
            {
                Name = name, Group = MicroScenarios.Skipped.Contains(skipped) ? "micro" : "envelope", Status = "skipped",
                Reason = skipped.Reason, Ray = skipped.Ray,
            };
        }

        if (MicroScenarios.All.FirstOrDefault(s => s.Name == name) is { } micro)
        {
            return await MeasureAsync(name, "micro", () => RunMicroAsync(micro), limit).ConfigureAwait(false);
        }

        if (EnvelopeScenarios.All.FirstOrDefault(s => s.Name == name) is { } envelope)
        {
            return await MeasureAsync(name, "envelope", () => RunEnvelopeAsync(envelope), limit).ConfigureAwait(false);
        }

        throw new ArgumentException($"Unknown scenario '{name}'. Known: {string.Join(", ", MicroNames.Concat(EnvelopeNames))}.", nameof(name));
    }

    private static async Task<ScenarioResult> MeasureAsync(string name, string group, Func<Task<ScenarioResult>> run, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        await using var sampler = WorkingSetSampler.StartNew();
        ScenarioResult result;
        try
        {
            result = await run().WaitAsync(limit).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            result = new ScenarioResult
            {
                Name = name, Group = group, Status = "failed",
                Reason = e is TimeoutException ? $"did not finish within {limit.TotalMinutes:0} min" : $"{e.GetType().Name}: {e.Message}",
            };
        }

        return result with { PeakWorkingSetBytes = sampler.Peak, WorkingSetAfterBytes = WorkingSetSampler.Current(), WallSeconds = clock.Elapsed.TotalSeconds };
    }

    private async Task<ScenarioResult> RunMicroAsync(MicroScenario scenario)
    {
        var plan = _context.Settings.Plan;
        await using var workload = await scenario.Prepare(_context).ConfigureAwait(false);
        if (workload.NotApplicable is { } why)
        {
            return new ScenarioResult { Name = scenario.Name, Group = "micro", Status = "skipped", Reason = why, Ray = scenario.Ray };
        }

        var (ours, baseline) = await Timeit.RunPairAsync(workload.Ours, _context.Settings.OursOnly ? null : workload.Baseline, workload.UnitsPerCall, plan).ConfigureAwait(false);

        return new ScenarioResult
        {
            Name = scenario.Name, Group = "micro", Status = "ok", Unit = scenario.Unit, Size = workload.Size,
            Pattern = scenario.Pattern, BaselinePattern = scenario.BaselinePattern, Ours = ours, Baseline = baseline,
            BaselineNote = workload.Baseline is null ? _context.BaselineUnavailable : workload.BaselineNote, Ray = scenario.Ray, Note = workload.Note,
        };
    }

    private async Task<ScenarioResult> RunEnvelopeAsync(EnvelopeScenario scenario)
    {
        var outcome = await scenario.Run(_context).ConfigureAwait(false);
        return new ScenarioResult
        {
            Name = scenario.Name, Group = "envelope", Status = "ok", Size = outcome.Size, Pattern = scenario.Pattern,
            Seconds = outcome.Seconds, Figures = outcome.Figures, Note = outcome.Note, RayReference = scenario.RayReference,
        };
    }
}
