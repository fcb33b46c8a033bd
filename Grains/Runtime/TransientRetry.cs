using Polly;
using Polly.Retry;

namespace RayOrleans.Runtime;

/// <summary>
/// Retries a grain call that failed because its silo went away. Orleans activates the grain again on a
/// live silo once membership declares the old one dead (about 5 s with RayOrleans' settings, see
/// <c>FailureDetection</c>; longer on a starved machine), so the retries span about a minute before the failure
/// is passed on.
/// </summary>
internal static class TransientRetry
{
    /// <summary>For any call: retried only when it never reached its silo (refused) or timed out.</summary>
    public static readonly ResiliencePipeline Pipeline = Build(new PredicateBuilder().Handle<OrleansMessageRejectionException>().Handle<TimeoutException>());

    /// <summary>
    /// For calls that only read (cluster status, lookups): also retried when the silo became unavailable with
    /// the call pending, since asking again changes nothing.
    /// </summary>
    public static readonly ResiliencePipeline ReadPipeline =
        Build(new PredicateBuilder().Handle<OrleansMessageRejectionException>().Handle<SiloUnavailableException>().Handle<TimeoutException>());

    public static ValueTask RunAsync(Func<Task> call) => Pipeline.ExecuteAsync(async _ => await call().ConfigureAwait(false));

    /// <summary>Runs a read-only grain call through <see cref="ReadPipeline"/>.</summary>
    public static async Task<T> ReadAsync<T>(Func<Task<T>> call) =>
        await ReadPipeline.ExecuteAsync(async _ => await call().ConfigureAwait(false)).ConfigureAwait(false);

    private static ResiliencePipeline Build(PredicateBuilder<object> handled) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = handled,
            MaxRetryAttempts = 40,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            MaxDelay = TimeSpan.FromSeconds(2),
            UseJitter = true,
        })
        .Build();
}
