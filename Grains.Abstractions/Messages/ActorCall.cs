namespace RayOrleans.Messages;

/// <summary>One method call on an actor.</summary>
[GenerateSerializer, Immutable, Alias("ray.ActorCall")]
public sealed record ActorCall
{
    /// <summary>Identifies the call; the result is <c>ObjectId(CallId, 1)</c>.</summary>
    [Id(0)] public required Guid CallId { get; init; }

    /// <summary>The method's descriptor key.</summary>
    [Id(1)] public required string Method { get; init; }

    /// <summary>Readable name (Class.Method) for errors.</summary>
    [Id(2)] public required string Name { get; init; }

    /// <summary>Arguments in parameter order.</summary>
    [Id(3)] public required TaskArg[] Args { get; init; }

    /// <summary>The calling handle's id: calls from one caller are ordered by <see cref="Sequence"/>.</summary>
    [Id(4)] public required Guid CallerId { get; init; }

    /// <summary>0-based position of this call among the caller's calls to this actor.</summary>
    [Id(5)] public required long Sequence { get; init; }

    /// <summary>The task that made the call, for recursive cancellation; empty from a driver.</summary>
    [Id(6)] public Guid ParentTaskId { get; init; }

    /// <summary>
    /// 0 for the call as first sent; n when sent again the n-th time to make its lost result anew (lineage):
    /// the actor runs it unless it kept a reply of this or a later rebuild (an older reply points at the lost copy).
    /// </summary>
    [Id(7)] public int Rebuild { get; init; }

    /// <summary>The caller's job (see <see cref="TaskSpec.JobId"/>).</summary>
    [Id(8)] public string JobId { get; init; } = "";

    /// <summary>0 as first sent; n when its caller sends it the n-th time again (its actor's node died).</summary>
    [Id(9)] public int Attempt { get; init; }

    /// <summary>
    /// The W3C trace context (<c>traceparent</c>) of the span that submitted this work, so its execute span
    /// joins the same trace wherever it runs, Orleans messaging or not; null when nothing was tracing.
    /// </summary>
    [Id(20)] public string? TraceParent { get; init; }
}
