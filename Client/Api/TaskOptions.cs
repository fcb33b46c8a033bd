namespace RayOrleans;

/// <summary>Options of one remote task, named and defaulted as Ray's <c>@ray.remote</c> options.</summary>
public sealed record TaskOptions
{
    /// <summary>CPUs held while the task runs. Default 1.</summary>
    public double NumCpus { get; init; } = 1;

    /// <summary>GPUs held while the task runs. Default 0.</summary>
    public double NumGpus { get; init; }

    /// <summary>Memory (bytes) reserved while the task runs. Default 0.</summary>
    public long Memory { get; init; }

    /// <summary>Custom resources held while the task runs.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>
    /// Retries when the worker or node fails. Default 3, as Ray. With <see cref="RetryExceptions"/>,
    /// exceptions thrown by the task are retried too.
    /// </summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Whether an exception thrown by the task is retried (up to <see cref="MaxRetries"/>). Default false.</summary>
    public bool RetryExceptions { get; init; }

    /// <summary>
    /// Exception types thrown by the task that are retried (up to <see cref="MaxRetries"/>), with the types
    /// derived from them: Ray's <c>retry_exceptions=[...]</c>. Others fail the task at once. Ignored when
    /// <see cref="RetryExceptions"/> is true (every exception is retried then). Default none.
    /// </summary>
    public IReadOnlyList<Type>? RetryExceptionTypes { get; init; }

    /// <summary>A name for errors and logs. Default: Type.Method.</summary>
    public string? Name { get; init; }

    /// <summary>How many refs the task returns; above 1 the function returns a tuple of that many items. Default 1.</summary>
    public int NumReturns { get; init; } = 1;

    /// <summary>
    /// For a streaming generator: how many yielded values may wait unconsumed before the producer pauses.
    /// Default 64; 0 means no backpressure.
    /// </summary>
    public int GeneratorBackpressure { get; init; } = 64;

    /// <summary>Where the task may run. Default <see cref="RayOrleans.SchedulingStrategy.Default"/>.</summary>
    public SchedulingStrategy SchedulingStrategy { get; init; } = SchedulingStrategy.Default;

    internal void Validate()
    {
        ResourceDemand.Validate(NumCpus, NumGpus, Memory, Resources);

        foreach (var type in RetryExceptionTypes ?? [])
        {
            if (type is null || !typeof(Exception).IsAssignableFrom(type))
            {
                throw new ArgumentException($"RetryExceptionTypes may list only exception types; {type?.FullName ?? "null"} is not one.", nameof(RetryExceptionTypes));
            }
        }

        if (MaxRetries < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries must be -1 (unlimited) or more.");
        }

        if (NumReturns < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(NumReturns), NumReturns, "NumReturns must be at least 1.");
        }

        if (SchedulingStrategy is null)
        {
            throw new ArgumentNullException(nameof(SchedulingStrategy), "SchedulingStrategy must not be null; use SchedulingStrategy.Default.");
        }

        if (GeneratorBackpressure < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(GeneratorBackpressure), GeneratorBackpressure, "GeneratorBackpressure must be 0 or more.");
        }
    }

    internal Messages.ResourceSet ToResourceSet() => ResourceDemand.Build(NumCpus, NumGpus, Memory, Resources);
}
