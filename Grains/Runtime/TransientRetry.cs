using Polly;
using Polly.Retry;

namespace RayOrleans.Runtime;

/// <summary>
/// Retries a grain call that failed because its silo went away. Orleans activates the grain again on a
/// live silo once membership declares the old one dead (15-20 s with default options), so the retries span
/// about a minute before the failure is passed on.
/// </summary>
internal static class TransientRetry
{
    public static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<OrleansMessageRejectionException>().Handle<TimeoutException>(),
            MaxRetryAttempts = 40,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            MaxDelay = TimeSpan.FromSeconds(2),
            UseJitter = true,
        })
        .Build();

    public static ValueTask RunAsync(Func<Task> call) => Pipeline.ExecuteAsync(async _ => await call().ConfigureAwait(false));
}
