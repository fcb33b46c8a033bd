namespace RayOrleans.Messages;

/// <summary>Everything a node needs to run one remote function call.</summary>
[GenerateSerializer, Immutable, Alias("ray.TaskSpec")]
public sealed record TaskSpec
{
    /// <summary>The task's id; its returns are <c>ObjectId(TaskId, 1..NumReturns)</c>.</summary>
    [Id(0)] public required Guid TaskId { get; init; }

    /// <summary>The function descriptor key (see <c>FunctionDescriptor</c>).</summary>
    [Id(1)] public required string Function { get; init; }

    /// <summary>A readable name for errors and logs (the option <c>Name</c>, else Type.Method).</summary>
    [Id(2)] public required string Name { get; init; }

    /// <summary>Arguments in parameter order, not counting an injected <see cref="CancellationToken"/>.</summary>
    [Id(3)] public required TaskArg[] Args { get; init; }

    /// <summary>How many objects the task returns (a tuple is split when more than one).</summary>
    [Id(4)] public int NumReturns { get; init; } = 1;

    /// <summary>Resources held while the task runs.</summary>
    [Id(5)] public required ResourceSet Resources { get; init; }

    /// <summary>Retries on failure of the worker or node.</summary>
    [Id(6)] public int MaxRetries { get; init; }

    /// <summary>Whether an exception thrown by user code is retried (up to <see cref="MaxRetries"/>).</summary>
    [Id(7)] public bool RetryExceptions { get; init; }

    /// <summary>The task that submitted this one, for recursive cancellation; empty from a driver.</summary>
    [Id(8)] public Guid ParentTaskId { get; init; }

    /// <summary>True when the function is a streaming generator.</summary>
    [Id(9)] public bool IsGenerator { get; init; }

    /// <summary>For a generator: how many yielded values may wait unconsumed before the producer pauses; 0 = unbounded.</summary>
    [Id(10)] public int GeneratorBackpressure { get; init; }

    /// <summary>How often a busy node has passed the task on to one with free resources (Ray's spillback); at most once.</summary>
    [Id(11)] public int Spillbacks { get; init; }

    /// <summary>Where the task may run; null is <see cref="SchedulingStrategy.Default"/>.</summary>
    [Id(12)] public SchedulingStrategy? Strategy { get; init; }

    /// <summary>Full names of the exception types retried (with types derived from them) when <see cref="RetryExceptions"/> is false.</summary>
    [Id(13)] public string[]? RetryExceptionTypes { get; init; }

    /// <summary>
    /// The job the task belongs to (Ray's job id): the driver's, inherited by every task and actor its work
    /// submits; empty for work the cluster itself starts. The state API groups and filters by it.
    /// </summary>
    [Id(14)] public string JobId { get; init; } = "";

    /// <summary>0 for the first run; n when the owner sends the task again the n-th time (its node died, its memory monitor stopped it).</summary>
    [Id(15)] public int Attempt { get; init; }

    /// <summary>The job's shipped code the function lives in; null when the nodes load it themselves (their own or --code-dir assemblies).</summary>
    [Id(16)] public CodePackage? Code { get; init; }

    /// <summary>
    /// The function returns an array of exactly <see cref="NumReturns"/> items, each stored as its own return
    /// (Ray's <c>num_returns=N</c> with a list result); otherwise several returns come from a tuple.
    /// </summary>
    [Id(17)] public bool SplitArray { get; init; }

    /// <summary>
    /// The function takes one array parameter and each of <see cref="Args"/> is one item of it, a top-level
    /// argument resolved before the task runs like any other (Ray's <c>f.remote(*refs)</c>).
    /// </summary>
    [Id(18)] public bool GatherArgs { get; init; }

    /// <summary>
    /// The W3C trace context (<c>traceparent</c>) of the span that submitted this work, so its execute span
    /// joins the same trace wherever it runs, Orleans messaging or not; null when nothing was tracing.
    /// </summary>
    [Id(20)] public string? TraceParent { get; init; }
}
