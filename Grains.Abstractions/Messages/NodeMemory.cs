namespace RayOrleans.Messages;

/// <summary>One node's object store: how full it is, and its largest objects (Ray's <c>ray memory</c>, per node).</summary>
[GenerateSerializer, Immutable, Alias("ray.NodeMemory")]
public sealed class NodeMemory
{
    /// <summary>The node id (the silo address).</summary>
    [Id(0)] public required string NodeId { get; init; }

    /// <summary>Bytes held in memory by live objects.</summary>
    [Id(1)] public long Used { get; init; }

    /// <summary>Bytes of freed segments kept mapped for reuse.</summary>
    [Id(2)] public long Pooled { get; init; }

    /// <summary>Bytes of objects spilled to disk.</summary>
    [Id(3)] public long Spilled { get; init; }

    /// <summary>Bytes the store may hold in memory.</summary>
    [Id(4)] public long Capacity { get; init; }

    /// <summary>Objects in the store, in memory or spilled.</summary>
    [Id(5)] public int Count { get; init; }

    /// <summary>The largest objects, largest first.</summary>
    [Id(6)] public required StoredObjectInfo[] Largest { get; init; }
}

/// <summary>One object in a node's store.</summary>
[GenerateSerializer, Immutable, Alias("ray.StoredObjectInfo")]
public sealed class StoredObjectInfo
{
    /// <summary>The object.</summary>
    [Id(0)] public ObjectId Id { get; init; }

    /// <summary>Its size in bytes.</summary>
    [Id(1)] public long Size { get; init; }

    /// <summary>True while it is spilled to disk.</summary>
    [Id(2)] public bool Spilled { get; init; }

    /// <summary>Readers holding it in place now (views, leases).</summary>
    [Id(3)] public int Readers { get; init; }

    /// <summary>The runtime that owns it, when known (the directory's record, or the asking driver's own table).</summary>
    [Id(4)] public string? Owner { get; init; }

    /// <summary>What made it: a task's or actor method's name, or "put"; null when not known.</summary>
    [Id(5)] public string? Creator { get; init; }

    /// <summary>
    /// The references that keep it alive, by holder (<c>process:</c>, <c>object:</c>, <c>actor:</c>) with
    /// their counts. Empty for an object no ref to which left its owner: then its owner's refs alone hold it.
    /// </summary>
    [Id(6)] public IReadOnlyDictionary<string, int> Holders { get; init; } = new Dictionary<string, int>();

    /// <summary>For a copy pulled from another node: the node it came from; null for the object's primary copy.</summary>
    [Id(7)] public string? PulledFrom { get; init; }

    /// <summary>On the primary copy's node: the other nodes holding copies of it (freed with it).</summary>
    [Id(8)] public IReadOnlyList<string> Copies { get; init; } = [];
}
