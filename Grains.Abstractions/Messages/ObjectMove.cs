namespace RayOrleans.Messages;

/// <summary>
/// An object's primary copy moved from a draining node to another: owners and the directory replace the location
/// <see cref="From"/> with <see cref="To"/> in their records, so later reads go there.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ObjectMove")]
public sealed class ObjectMove
{
    /// <summary>The object.</summary>
    [Id(0)] public required ObjectId Id { get; init; }

    /// <summary>The draining node that held it.</summary>
    [Id(1)] public required string From { get; init; }

    /// <summary>The node that holds it now.</summary>
    [Id(2)] public required string To { get; init; }
}
