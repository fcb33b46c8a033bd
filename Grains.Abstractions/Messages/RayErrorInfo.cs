namespace RayOrleans.Messages;

/// <summary>A failure recorded in place of an object, carried across processes without the exception type.</summary>
[GenerateSerializer, Immutable, Alias("ray.RayErrorInfo")]
public sealed class RayErrorInfo
{
    /// <summary>Which typed exception to raise.</summary>
    [Id(0)] public required RayErrorKind Kind { get; init; }

    /// <summary>Full name of the original exception type.</summary>
    [Id(1)] public required string ExceptionType { get; init; }

    /// <summary>The original message.</summary>
    [Id(2)] public required string Message { get; init; }

    /// <summary>The original stack trace.</summary>
    [Id(3)] public string? StackTrace { get; init; }

    /// <summary>The task or actor method that failed.</summary>
    [Id(4)] public required string TaskName { get; init; }

    /// <summary>The node where it failed.</summary>
    [Id(5)] public string? Node { get; init; }

    /// <summary>The id of the failing task or call.</summary>
    [Id(6)] public Guid TaskId { get; init; }

    /// <summary>For a failure propagated through a dependency: the original failure.</summary>
    [Id(7)] public RayErrorInfo? Cause { get; init; }

    /// <summary>For <see cref="RayErrorKind.ObjectLost"/>: the object that could not be read (an argument, or the result itself).</summary>
    [Id(8)] public ObjectId? LostObject { get; init; }

    /// <summary>
    /// For a task its node's memory monitor cancelled: the attempt that ended, as its node numbered it (the owner's
    /// attempt plus the retries the node made itself on exceptions), so the owner numbers the next one after it.
    /// </summary>
    [Id(9)] public int Attempt { get; init; }
}
