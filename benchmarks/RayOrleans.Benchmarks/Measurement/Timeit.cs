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
        TrialCosts oursCosts = default, baselineCosts = default;
        for (var t = 0; t < plan.Trials; t++)
        {
            (oursRates[t], var costs) = await TrialAsync(ours, oursStep, unitsPerCall, plan).ConfigureAwait(false);
            oursCosts += costs;
            if (baseline is not null)
            {
                (baselineRates[t], costs) = await TrialAsync(baseline, baselineStep, unitsPerCall, plan).ConfigureAwait(false);
                baselineCosts += costs;
            }
        }

        return (RateStats.Of(oursRates, oursCosts, unitsPerCall), baseline is null ? null : RateStats.Of(baselineRates, baselineCosts, unitsPerCall));
    }

    /// <summary>
    /// What the trials of one side cost the process besides time: calls made, bytes allocated (all threads: the
    /// node's and Orleans' work counts too) and time the GC held the process paused. Unlike a rate these do not
    /// depend on how busy the shared machine is, so two runs compare on them even when their rates are noise.
    /// </summary>
    internal readonly record struct TrialCosts(long Calls, TimeSpan Elapsed, long AllocatedBytes, TimeSpan GcPause, int Gen0, int Gen1, int Gen2, long PromotedFromGen0, long PromotedFromGen1)
    {
        public static TrialCosts operator +(TrialCosts a, TrialCosts b) =>
            new(a.Calls + b.Calls, a.Elapsed + b.Elapsed, a.AllocatedBytes + b.AllocatedBytes, a.GcPause + b.GcPause, a.Gen0 + b.Gen0, a.Gen1 + b.Gen1, a.Gen2 + b.Gen2, a.PromotedFromGen0 + b.PromotedFromGen0, a.PromotedFromGen1 + b.PromotedFromGen1);

        public static TrialCosts operator -(TrialCosts end, TrialCosts start) =>
            new(end.Calls - start.Calls, end.Elapsed - start.Elapsed, end.AllocatedBytes - start.AllocatedBytes, end.GcPause - start.GcPause, end.Gen0 - start.Gen0, end.Gen1 - start.Gen1, end.Gen2 - start.Gen2, end.PromotedFromGen0 - start.PromotedFromGen0, end.PromotedFromGen1 - start.PromotedFromGen1);

        /// <summary>The process's counters now (calls and elapsed are the caller's).</summary>
        public static TrialCosts Now(long calls, TimeSpan elapsed) =>
            new(calls, elapsed, GC.GetTotalAllocatedBytes(precise: false), GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
                GcPromotions.Instance.FromGen0, GcPromotions.Instance.FromGen1);
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

    private static async Task<(double Rate, TrialCosts Costs)> TrialAsync(Func<Task> workload, int step, double unitsPerCall, TrialPlan plan)
    {
        var calls = 0;
        var start = TrialCosts.Now(0, TimeSpan.Zero);
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

        var elapsed = clock.Elapsed;
        return (unitsPerCall * calls / elapsed.TotalSeconds, TrialCosts.Now(calls, elapsed) - start);
    }
}

/// <summary>
/// The rates of the timed trials with their mean, population standard deviation (as numpy's std) and median;
/// and, over all trials, what the work cost the process besides time: bytes allocated per unit, the share of
/// the trials' time the GC held the process paused, and gen0 and gen2 collections per 1000 units. These are
/// process-wide (the node's and Orleans' work counts too) and, unlike a rate, hardly depend on how busy the
/// shared machine is, so two runs compare on them even when their rates are noise.
/// </summary>
public sealed record RateStats(double[] Rates, double Mean, double Sd, double Median, long Calls)
{
    /// <summary>Bytes allocated by the whole process per unit of work during the trials.</summary>
    public double BytesPerUnit { get; init; }

    /// <summary>Percent of the trials' wall time the GC held the process paused.</summary>
    public double GcPausePercent { get; init; }

    /// <summary>Gen0 collections per 1000 units.</summary>
    public double Gen0Per1000 { get; init; }

    /// <summary>Gen1 collections (gen2 ones included) per 1000 units.</summary>
    public double Gen1Per1000 { get; init; }

    /// <summary>Gen2 collections per 1000 units.</summary>
    public double Gen2Per1000 { get; init; }

    /// <summary>Bytes the GC promoted out of gen0 per unit (what outlived a young collection).</summary>
    public double PromotedPerUnit { get; init; }

    /// <summary>Bytes the GC promoted out of gen1 into gen2 per unit.</summary>
    public double PromotedToGen2PerUnit { get; init; }

    /// <summary>Mean pause of one collection, in milliseconds (0 when none ran).</summary>
    public double MsPerGc { get; init; }

    public static RateStats Of(double[] rates, long calls)
    {
        var mean = rates.Average();
        var sd = Math.Sqrt(rates.Select(r => (r - mean) * (r - mean)).Average());
        var sorted = rates.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new RateStats(rates, mean, sd, median, calls);
    }

    internal static RateStats Of(double[] rates, Timeit.TrialCosts costs, double unitsPerCall)
    {
        var units = Math.Max(1, costs.Calls * unitsPerCall);
        return Of(rates, costs.Calls) with
        {
            BytesPerUnit = costs.AllocatedBytes / units,
            GcPausePercent = costs.Elapsed > TimeSpan.Zero ? 100 * costs.GcPause / costs.Elapsed : 0,
            Gen0Per1000 = 1000 * costs.Gen0 / units,
            Gen1Per1000 = 1000 * costs.Gen1 / units,
            PromotedPerUnit = costs.PromotedFromGen0 / units,
            PromotedToGen2PerUnit = costs.PromotedFromGen1 / units,
            Gen2Per1000 = 1000 * costs.Gen2 / units,
            MsPerGc = costs.Gen0 > 0 ? costs.GcPause.TotalMilliseconds / costs.Gen0 : 0,
        };
    }
}
