namespace RayOrleans;

/// <summary>Identifies one actor; it is also the key of the actor's grain.</summary>
[GenerateSerializer, Immutable, Alias("ray.ActorId")]
public readonly record struct ActorId([property: Id(0)] Guid Value)
{
    /// <summary>A fresh actor id.</summary>
    public static ActorId New() => new(UniqueIds.Next());

    /// <inheritdoc />
    public override string ToString() => Value.ToString("N");
}
