using RayOrleans.Benchmarks.Measurement;

namespace RayOrleans.Benchmarks.Scenarios;

/// <summary>Every figure of one scenario in one run; what the console table, the JSON file and the Markdown page show.</summary>
public sealed record ScenarioResult
{
    public required string Name { get; init; }

    /// <summary>"micro" (Ray's microbenchmark) or "envelope" (the scalability envelope).</summary>
    public required string Group { get; init; }

    /// <summary>"ok", "failed" or "skipped".</summary>
    public required string Status { get; init; }

    /// <summary>Why it failed or was skipped.</summary>
    public string? Reason { get; init; }

    public string? Unit { get; init; }

    public string? Size { get; init; }

    public string? Pattern { get; init; }

    public string? BaselinePattern { get; init; }

    public RateStats? Ours { get; init; }

    public RateStats? Baseline { get; init; }

    /// <summary>Why there is no baseline, or how it was taken where that is not a grain call.</summary>
    public string? BaselineNote { get; init; }

    /// <summary>Ours over baseline, by mean rate.</summary>
    public double? Ratio => Ours is { } o && Baseline is { Mean: > 0 } b ? o.Mean / b.Mean : null;

    public RayFigure? Ray { get; init; }

    /// <summary>Envelope: seconds the whole scenario took.</summary>
    public double? Seconds { get; init; }

    /// <summary>Envelope: its other figures (seconds of parts, rates, bytes per actor).</summary>
    public IReadOnlyDictionary<string, double>? Figures { get; init; }

    public string? Note { get; init; }

    /// <summary>Envelope: what Ray states for this limit.</summary>
    public string? RayReference { get; init; }

    /// <summary>The highest working set of this process sampled while the scenario ran (both sides), in bytes.</summary>
    public long PeakWorkingSetBytes { get; init; }

    /// <summary>The working set when the scenario ended, in bytes: objects are never freed, so this grows over a run.</summary>
    public long WorkingSetAfterBytes { get; init; }

    /// <summary>Seconds the scenario took in all, preparation and both sides included.</summary>
    public double WallSeconds { get; init; }
}
