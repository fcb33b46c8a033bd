namespace RayOrleans.Messages;

/// <summary>How to build and run one actor: its class, constructor arguments and options.</summary>
[GenerateSerializer, Immutable, Alias("ray.ActorSpec")]
public sealed record ActorSpec
{
    /// <summary>The actor's id.</summary>
    [Id(0)] public required ActorId ActorId { get; init; }

    /// <summary>The constructor's descriptor key.</summary>
    [Id(1)] public required string Constructor { get; init; }

    /// <summary>Constructor arguments.</summary>
    [Id(2)] public required TaskArg[] Args { get; init; }

    /// <summary>The actor class's readable name.</summary>
    [Id(3)] public required string ClassName { get; init; }

    /// <summary>Resources held for the actor's lifetime.</summary>
    [Id(4)] public required ResourceSet Resources { get; init; }

    /// <summary>Restarts allowed after the actor dies unexpectedly; -1 = unlimited.</summary>
    [Id(5)] public int MaxRestarts { get; init; }

    /// <summary>Retries of a method call interrupted by the actor's death; -1 = unlimited.</summary>
    [Id(6)] public int MaxTaskRetries { get; init; }

    /// <summary>Calls that may run at once; 1 keeps each caller's calls in submission order.</summary>
    [Id(7)] public int MaxConcurrency { get; init; } = 1;

    /// <summary>Registered name, if any.</summary>
    [Id(8)] public string? Name { get; init; }

    /// <summary>Namespace of <see cref="Name"/>.</summary>
    [Id(9)] public string Namespace { get; init; } = "default";

    /// <summary>True for a detached actor, which outlives the driver that created it.</summary>
    [Id(10)] public bool Detached { get; init; }

    /// <summary>Restarts already used before this creation (a re-creation after the actor's node died counts one).</summary>
    [Id(11)] public int Restarts { get; init; }

    /// <summary>Where the actor may live; null is <see cref="SchedulingStrategy.Default"/>.</summary>
    [Id(12)] public SchedulingStrategy? Strategy { get; init; }

    /// <summary>The creator's job (see <see cref="TaskSpec.JobId"/>).</summary>
    [Id(13)] public string JobId { get; init; } = "";

    /// <summary>The job's shipped code the actor class lives in (see <see cref="TaskSpec.Code"/>).</summary>
    [Id(14)] public CodePackage? Code { get; init; }

    /// <summary>
    /// The W3C trace context (<c>traceparent</c>) of the span that created the actor, so its constructor's span
    /// joins the creator's trace; null when nothing was tracing.
    /// </summary>
    [Id(20)] public string? TraceParent { get; init; }
}
