using System.Diagnostics;

namespace RayOrleans.Benchmarks.Measurement;

/// <summary>How long to warm up and how many timed trials of what length (Ray's timeit: 1 s, then 4 of at least 2 s).</summary>
public sealed record TrialPlan(TimeSpan WarmUp, int Trials, TimeSpan MinTrial)
{
    /// <summary>Ray's method: warm up 1 s, then 4 trials of at least 2 s.</summary>
    public static TrialPlan Full { get; } = new(TimeSpan.FromSeconds(1), 4, TimeSpan.FromSeconds(2));

    /// <summary>Everyday use: 0.5 s warm-up, 2 trials of at least 0.5 s.</summary>
    public static TrialPlan Quick { get; } = new(TimeSpan.FromSeconds(0.5), 2, TimeSpan.FromSeconds(0.5));

    /// <summary>One call, no warm-up: proves the scenario runs (tests).</summary>
    public static TrialPlan Once { get; } = new(TimeSpan.Zero, 1, TimeSpan.Zero);
}

/// <summary>
/// Ray's <c>timeit</c> (python/ray/_private/ray_microbenchmark_helpers.py) for async work: call the workload
/// for the warm-up time, then run trials of at least the trial time, each in steps of a tenth of the
/// warm-up count (plus one), and turn each trial into a rate of <c>unitsPerCall * calls / seconds</c>.
/// Ray also sleeps 10 s before each scenario against noisy neighbours; we do not (the runner warms the
/// whole process up once instead).
/// </summary>
public static class Timeit
{
    /// <summary>Ray's timeit for one workload.</summary>
    public static async Task<RateStats> RunAsync(Func<Task> workload, double unitsPerCall, TrialPlan plan) =>
        (await RunPairAsync(workload, null, unitsPerCall, plan).ConfigureAwait(false)).Ours;

    /// <summary>
    /// Ray's timeit for our workload and its baseline: each warms up on its own, then their trials alternate
    /// (ours, baseline, ours, ...), so drift in the process or the machine (JIT, GC heap, other load on a
    /// shared machine) falls on both sides alike instead of on whichever ran second.
    /// </summary>
    public static async Task<(RateStats Ours, RateStats? Baseline)> RunPairAsync(Func<Task> ours, Func<Task>? baseline, double unitsPerCall, TrialPlan plan)
    {
        var oursStep = await WarmUpAsync(ours, plan).ConfigureAwait(false);
        var baselineStep = baseline is null ? 0 : await WarmUpAsync(baseline, plan).ConfigureAwait(false);
        var oursRates = new double[plan.Trials];
        var baselineRates = new double[plan.Trials];
        long oursCalls = 0, baselineCalls = 0;
        for (var t = 0; t < plan.Trials; t++)
        {
            (oursRates[t], var calls) = await TrialAsync(ours, oursStep, unitsPerCall, plan).ConfigureAwait(false);
            oursCalls += calls;
            if (baseline is not null)
            {
                (baselineRates[t], calls) = await TrialAsync(baseline, baselineStep, unitsPerCall, plan).ConfigureAwait(false);
                baselineCalls += calls;
            }
        }

        return (RateStats.Of(oursRates, oursCalls), baseline is null ? null : RateStats.Of(baselineRates, baselineCalls));
    }

    /// <summary>Calls the workload for the warm-up time; returns the trial step, a tenth of the warm-up calls plus one.</summary>
    private static async Task<int> WarmUpAsync(Func<Task> workload, TrialPlan plan)
    {
        var clock = Stopwatch.StartNew();
        var calls = 0;
        while (clock.Elapsed < plan.WarmUp)
        {
            await workload().ConfigureAwait(false);
            calls++;
        }

        return calls / 10 + 1;
    }

    private static async Task<(double Rate, int Calls)> TrialAsync(Func<Task> workload, int step, double unitsPerCall, TrialPlan plan)
    {
        var calls = 0;
        var clock = Stopwatch.StartNew();
        do
        {
            for (var i = 0; i < step; i++)
            {
                await workload().ConfigureAwait(false);
            }

            calls += step;
        }
        while (clock.Elapsed < plan.MinTrial);

        return (unitsPerCall * calls / clock.Elapsed.TotalSeconds, calls);
    }
}

/// <summary>The rates of the timed trials with their mean, population standard deviation (as numpy's std) and median.</summary>
public sealed record RateStats(double[] Rates, double Mean, double Sd, double Median, long Calls)
{
    public static RateStats Of(double[] rates, long calls)
    {
        var mean = rates.Average();
        var sd = Math.Sqrt(rates.Select(r => (r - mean) * (r - mean)).Average());
        var sorted = rates.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new RateStats(rates, mean, sd, median, calls);
    }
}
