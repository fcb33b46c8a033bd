namespace RayOrleans;

/// <summary>Options of one actor, named and defaulted as Ray's actor options.</summary>
public sealed record ActorOptions
{
    /// <summary>CPUs held for the actor's lifetime. Default 0: as in Ray, an actor holds no CPU while alive unless asked.</summary>
    public double NumCpus { get; init; }

    /// <summary>GPUs held for the actor's lifetime. Default 0.</summary>
    public double NumGpus { get; init; }

    /// <summary>Memory (bytes) reserved for the actor's lifetime. Default 0.</summary>
    public long Memory { get; init; }

    /// <summary>Custom resources held for the actor's lifetime.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>Name to register, so <c>GetActorAsync</c> finds the actor. Default none.</summary>
    public string? Name { get; init; }

    /// <summary>Namespace of <see cref="Name"/>. Default "default".</summary>
    public string? Namespace { get; init; }

    /// <summary>Whether the actor outlives its driver. Default <see cref="ActorLifetime.NonDetached"/>.</summary>
    public ActorLifetime Lifetime { get; init; } = ActorLifetime.NonDetached;

    /// <summary>Restarts after the actor dies unexpectedly (or is killed without noRestart). Default 0; -1 = unlimited.</summary>
    public int MaxRestarts { get; init; }

    /// <summary>Retries of a call interrupted by the actor's death. Default 0; -1 = unlimited.</summary>
    public int MaxTaskRetries { get; init; }

    /// <summary>Calls that may run at once. Default 1: one caller's calls run in submission order.</summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>Where the actor may live. Default <see cref="RayOrleans.SchedulingStrategy.Default"/>.</summary>
    public SchedulingStrategy SchedulingStrategy { get; init; } = SchedulingStrategy.Default;

    internal void Validate()
    {
        ResourceDemand.Validate(NumCpus, NumGpus, Memory, Resources);

        if (MaxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "MaxConcurrency must be at least 1.");
        }

        if (MaxRestarts < -1 || MaxTaskRetries < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRestarts), "MaxRestarts and MaxTaskRetries must be -1 (unlimited) or more.");
        }

        if (SchedulingStrategy is null)
        {
            throw new ArgumentNullException(nameof(SchedulingStrategy), "SchedulingStrategy must not be null; use SchedulingStrategy.Default.");
        }

        if (Name is { Length: 0 })
        {
            throw new ArgumentException("An actor name must not be empty.", nameof(Name));
        }
    }
}

/// <summary>Whether an actor's life is tied to its driver.</summary>
public enum ActorLifetime
{
    /// <summary>The actor is killed when the driver that created it shuts down.</summary>
    NonDetached,

    /// <summary>The actor lives on after its driver; it ends only when killed or when its node goes.</summary>
    Detached,
}
