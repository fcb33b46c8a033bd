namespace RayOrleans.Messages;

/// <summary>
/// What the directory knows of an object whose ref left its owner's process (Ray's object table entry):
/// where it is, who owns it, and which references keep it alive.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ObjectRecordInfo")]
public sealed class ObjectRecordInfo
{
    /// <summary>The object.</summary>
    [Id(0)] public ObjectId Id { get; init; }

    /// <summary>Its size in bytes; 0 while it is not ready.</summary>
    [Id(1)] public long Size { get; init; }

    /// <summary>The node whose store holds it; null when it is inline in the directory, failed, or not ready.</summary>
    [Id(2)] public string? Location { get; init; }

    /// <summary>The runtime that owns it (made or put it), when known.</summary>
    [Id(3)] public string? Owner { get; init; }

    /// <summary>What made it: a task's or actor method's name, or "put"; null when its owner did not say.</summary>
    [Id(8)] public string? Creator { get; init; }

    /// <summary>Whether it is ready (or failed).</summary>
    [Id(4)] public bool Ready { get; init; }

    /// <summary>Whether its copy is pinned in its node's store: true while references keep it alive.</summary>
    [Id(5)] public bool Pinned { get; init; }

    /// <summary>The references that keep it alive, by holder, with how many each holds.</summary>
    [Id(6)] public required Dictionary<string, int> Holders { get; init; }

    /// <summary>The node whose directory shard holds this record.</summary>
    [Id(10)] public string? Shard { get; init; }

    /// <summary>The other nodes holding copies pulled from <see cref="Location"/>.</summary>
    [Id(9)] public string[] Copies { get; init; } = [];

    /// <summary>The objects whose refs its value contains (held alive by it).</summary>
    [Id(7)] public required ObjectId[] Contains { get; init; }

    /// <summary>
    /// The record was made again from its owner's and holders' re-publishes after its shard was lost with a node,
    /// and the shard is still waiting for the rest of them: frees wait, and an object nobody owns is declared lost
    /// when the wait ends.
    /// </summary>
    [Id(11)] public bool Rebuilding { get; init; }
}
