namespace RayOrleans.Messages;

/// <summary>
/// The user code a job's tasks and actors run (Ray's runtime_env working_dir): a zip of its assemblies, put
/// in the object store by the driver, named by its SHA-256. A node unpacks it once per hash and loads it
/// into a collectible load context of the job's own, so jobs built against different versions of an
/// assembly run side by side, and a job's code is unloaded when the node has not used it for a while.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.CodePackage")]
public sealed record CodePackage
{
    /// <summary>Lowercase hex SHA-256 of the zip's bytes.</summary>
    [Id(0)] public required string Hash { get; init; }

    /// <summary>The object holding the zip (a byte array), owned by the driver.</summary>
    [Id(1)] public required ObjectId Object { get; init; }

    /// <summary>The zip's size in bytes.</summary>
    [Id(2)] public long Size { get; init; }
}
