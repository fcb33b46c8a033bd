namespace RayOrleans.Messages;

/// <summary>
/// The directory's record of a ready object: its bytes inline (small objects), or the node that holds them,
/// or the error that stands in its place.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ObjectValue")]
public sealed class ObjectValue
{
    /// <summary>The serialized value when it is small enough to live in the directory.</summary>
    [Id(0)] public byte[]? Inline { get; init; }

    /// <summary>The node whose store holds the value when it is not inline.</summary>
    [Id(1)] public string? Location { get; init; }

    /// <summary>Serialized size in bytes.</summary>
    [Id(2)] public long Size { get; init; }

    /// <summary>The failure that stands in place of the value; a get rethrows it.</summary>
    [Id(3)] public RayErrorInfo? Error { get; init; }

    /// <summary>The node that produced the object (for generator acknowledgements and diagnostics).</summary>
    [Id(4)] public string? ProducerNode { get; init; }

    /// <summary>For a generator's end record: how many values it yielded.</summary>
    [Id(5)] public int GeneratorCount { get; init; }

    /// <summary>
    /// The objects whose refs the value contains: each is held alive (an <c>object:</c> reference in the
    /// directory) for as long as this object lives, and released when it is freed.
    /// </summary>
    [Id(6)] public ObjectId[]? Refs { get; init; }
}
