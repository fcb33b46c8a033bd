namespace RayOrleans.Messages;

/// <summary>A named actor as a node reports it: how a namespace's registry recovers its names after its silo died.</summary>
[GenerateSerializer, Immutable, Alias("ray.NamedActor")]
public sealed record NamedActor(
    [property: Id(0)] string Name,
    [property: Id(1)] ActorId Actor,
    [property: Id(2)] string ClassName);
