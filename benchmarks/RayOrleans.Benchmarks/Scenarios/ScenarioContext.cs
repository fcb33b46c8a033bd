using RayOrleans.Benchmarks.Baseline;

namespace RayOrleans.Benchmarks.Scenarios;

/// <summary>
/// What a scenario runs against: the driver, and the grain factory that same driver's runtime makes its
/// grain calls through (for the raw-Orleans baseline, so both sides go through the same client in the same
/// process layout).
/// </summary>
public sealed class ScenarioContext
{
    internal ScenarioContext(Ray ray, RunSettings settings, IGrainFactory? grains, string? baselineUnavailable)
    {
        Ray = ray;
        Settings = settings;
        Grains = grains;
        BaselineUnavailable = baselineUnavailable;
    }

    public Ray Ray { get; }

    public RunSettings Settings { get; }

    /// <summary>The grain factory of the driver's runtime; null when the baseline grains are not in the cluster.</summary>
    internal IGrainFactory? Grains { get; }

    /// <summary>Why the raw-Orleans baseline cannot run (an external cluster without this assembly); null when it can.</summary>
    public string? BaselineUnavailable { get; }

    /// <summary>The value for the run's size.</summary>
    public T Pick<T>(T full, T quick, T tiny) => Settings.Size switch
    {
        ScenarioSize.Full => full,
        ScenarioSize.Quick => quick,
        _ => tiny,
    };

    // Baseline grain references are made once and reused, as Orleans' own benchmarks do: GetGrain costs
    // 3-4 us in Orleans 10.4.2 (it resolves the interface type through reflection), about as much as a call.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, IBaselineGrain> _grains = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, IBaselineClientGrain> _clients = new();

    internal IBaselineGrain Grain(long key) => _grains.GetOrAdd(key, k => Grains!.GetGrain<IBaselineGrain>(k));

    internal IBaselineClientGrain Client(long key) => _clients.GetOrAdd(key, k => Grains!.GetGrain<IBaselineClientGrain>(k));

    /// <summary>The baseline when the grains are there, else null.</summary>
    internal Func<Task>? Baseline(Func<Task> call) => Grains is null ? null : call;

    /// <summary>Kills actors made for a scenario, so they do not pile up over the run.</summary>
    internal Func<Task> Kill<T>(params IEnumerable<ActorHandle<T>>[] groups) => async () =>
    {
        var kills = groups.SelectMany(g => g).Select(a => Ray.KillAsync(a)).ToList();
        await Task.WhenAll(kills).ConfigureAwait(false);
    };
}
