using RayOrleans.Benchmarks.Measurement;

namespace RayOrleans.Benchmarks.Scenarios;

/// <summary>How big each scenario's workload is.</summary>
public enum ScenarioSize
{
    /// <summary>A handful of calls per workload: proves the scenario runs (tests).</summary>
    Tiny,

    /// <summary>Ray's sizes scaled down where one call would take seconds on 2 cores (<c>--quick</c>).</summary>
    Quick,

    /// <summary>Ray's sizes wherever a 2-core, 24 GiB machine can hold them.</summary>
    Full,
}

/// <summary>What a run measures and how.</summary>
public sealed record RunSettings
{
    public ScenarioSize Size { get; init; } = ScenarioSize.Full;

    public TrialPlan Plan { get; init; } = TrialPlan.Full;

    /// <summary>Tasks queued at once in the queued-tasks envelope scenario. Default 1,000,000 (Ray's); --quick 100,000.</summary>
    public int QueuedTasks { get; init; } = 1_000_000;

    /// <summary>How long queued_tasks may run before it reports how far it got. Default 10 min; --quick 2 min.</summary>
    public TimeSpan EnvelopeTimeLimit { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Untimed work on both sides before the first scenario, so the first one is not measured while the JIT
    /// tiers up and the thread pool grows (in an early run on 2 cores that took about 8 s). Default 5 s; --quick 1 s.
    /// </summary>
    public TimeSpan ProcessWarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Skip the raw-Orleans side of every scenario (<c>--ours-only</c>, for profiling). Default false.</summary>
    public bool OursOnly { get; init; }

    /// <summary>A run that proves every scenario works: tiny sizes, one call each.</summary>
    public static RunSettings Tiny { get; } = new() { Size = ScenarioSize.Tiny, Plan = TrialPlan.Once, QueuedTasks = 1_000, ProcessWarmUp = TimeSpan.Zero, EnvelopeTimeLimit = TimeSpan.FromMinutes(1) };

    /// <summary><c>--quick</c>: smaller sizes, 2 short trials.</summary>
    public static RunSettings Quick { get; } = new() { Size = ScenarioSize.Quick, Plan = TrialPlan.Quick, QueuedTasks = 100_000, ProcessWarmUp = TimeSpan.FromSeconds(1), EnvelopeTimeLimit = TimeSpan.FromMinutes(2) };

    /// <summary>The full run: Ray's sizes where feasible, Ray's trial method.</summary>
    public static RunSettings Full { get; } = new();
}

/// <summary>Ray's published figure for a scenario (ANCHORS.md): one stored full run, and the newest labelled release.</summary>
public sealed record RayFigure(string Metric, double? FullRun, double? Release, string? ReleaseVersion)
{
    public string Describe() =>
        $"{(FullRun is { } f ? f.ToString("N1") : "-")} / {(Release is { } r ? $"{r:N1} ({ReleaseVersion})" : "-")}";
}

/// <summary>A scenario of Ray's microbenchmark, with its raw-Orleans baseline.</summary>
/// <param name="Name">Ray's name for it.</param>
/// <param name="Unit">What one unit of the rate is.</param>
/// <param name="Pattern">What our side does, in a line.</param>
/// <param name="BaselinePattern">What the raw-Orleans side does, in a line.</param>
/// <param name="Ray">Ray's figure for reference.</param>
/// <param name="Prepare">Builds the workload at the run's size (actors created, objects put), untimed.</param>
public sealed record MicroScenario(string Name, string Unit, string Pattern, string BaselinePattern, RayFigure Ray, Func<ScenarioContext, Task<Workload>> Prepare);

/// <summary>A scalability-envelope scenario: one timed run, with its peak working set.</summary>
public sealed record EnvelopeScenario(string Name, string Pattern, string RayReference, Func<ScenarioContext, Task<EnvelopeOutcome>> Run);

/// <summary>A scenario that cannot run yet, and why.</summary>
public sealed record SkippedScenario(string Name, string Reason, RayFigure? Ray);

/// <summary>
/// One prepared scenario: the call that is timed on our side, the baseline call, and how many of the
/// scenario's units one call is. <see cref="DisposeAsync"/> frees what preparing made (kills actors).
/// </summary>
public sealed class Workload : IAsyncDisposable
{
    /// <summary>The size used, for the report (e.g. "1000 tasks per call").</summary>
    public required string Size { get; init; }

    /// <summary>Units one call of <see cref="Ours"/> (and of <see cref="Baseline"/>) is worth.</summary>
    public required double UnitsPerCall { get; init; }

    public required Func<Task> Ours { get; init; }

    /// <summary>The raw-Orleans (or memcpy) call of the same pattern; null when it cannot run (see <see cref="BaselineNote"/>).</summary>
    public Func<Task>? Baseline { get; init; }

    public string? BaselineNote { get; init; }

    /// <summary>Anything a reader of the figure must know (a size that differs from Ray's, and why).</summary>
    public string? Note { get; init; }

    public Func<Task>? Cleanup { get; init; }

    /// <summary>Set when the scenario cannot run on this cluster (the reason); nothing is timed then.</summary>
    public string? NotApplicable { get; init; }

    public async ValueTask DisposeAsync()
    {
        if (Cleanup is not null)
        {
            await Cleanup().ConfigureAwait(false);
        }
    }
}

/// <summary>What an envelope scenario measured.</summary>
public sealed record EnvelopeOutcome(string Size, double Seconds, IReadOnlyDictionary<string, double> Figures, string? Note = null);
