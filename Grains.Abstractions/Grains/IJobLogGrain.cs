using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// One job's task and actor output (the key is the job id): nodes append lines in batches, the grain keeps the
/// most recent ones for later reading and passes each batch on to the job's driver(s) that subscribed.
/// </summary>
public interface IJobLogGrain : IGrainWithStringKey
{
    /// <summary>Lines from one node, in the order written there (answered once they are kept and passed on).</summary>
    Task AppendAsync(LogLine[] lines);

    /// <summary>Starts (or renews: subscriptions lapse after 5 minutes) sending the job's new lines to <paramref name="observer"/>.</summary>
    Task SubscribeAsync(IJobLogObserver observer);

    /// <summary>Stops sending lines to <paramref name="observer"/>.</summary>
    Task UnsubscribeAsync(IJobLogObserver observer);

    /// <summary>The last <paramref name="max"/> lines kept (oldest first), and how many older ones were dropped.</summary>
    [AlwaysInterleave]
    Task<JobLogTail> TailAsync(int max);

    /// <summary>
    /// The kept lines numbered <paramref name="sequence"/> and later (lines are numbered from 0 in the order they
    /// arrived), at most <paramref name="max"/>: how a driver about to exit collects what it has not been sent yet.
    /// </summary>
    [AlwaysInterleave]
    Task<JobLogTail> SinceAsync(long sequence, int max);
}

/// <summary>Receives a job's output as its nodes send it (a driver's console).</summary>
public interface IJobLogObserver : IGrainObserver
{
    /// <summary>
    /// New lines of the job; the first is number <paramref name="sequence"/> of the grain activation
    /// <paramref name="epoch"/> (numbers start again at 0 when the grain starts again, after its silo died).
    /// </summary>
    [OneWay]
    Task OnLinesAsync(LogLine[] lines, long sequence, Guid epoch);
}

/// <summary>The kept end of a job's output: lines, how many earlier ones were dropped, and the number of the first.</summary>
[GenerateSerializer, Immutable, Alias("ray.JobLogTail")]
public sealed record JobLogTail(
    [property: Id(0)] LogLine[] Lines,
    [property: Id(1)] long Dropped,
    [property: Id(2)] long FirstSequence = 0,
    [property: Id(3)] Guid Epoch = default);
