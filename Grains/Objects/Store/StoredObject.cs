using System.Buffers;

namespace RayOrleans.Objects.Store;

/// <summary>
/// One object in the node's store: a segment and the object's length in it. Readers take a lease
/// (<c>NodeObjectStore.TryAcquire</c>) and read the mapping in place through its <c>Memory</c>; a
/// removed object's segment goes back to the pool only when its last lease is released, so a reader never
/// sees its bytes replaced.
/// </summary>
internal sealed unsafe class StoredObject : MemoryManager<byte>
{
    private int _leases;

    public StoredObject(ObjectId id, SharedSegment segment, long length)
    {
        Id = id;
        Segment = segment;
        Length = length;
    }

    public ObjectId Id { get; }

    /// <summary>The segment holding the object; null while it is spilled to disk.</summary>
    public SharedSegment? Segment { get; set; }

    /// <summary>The file holding the object while it is spilled; null when it is in memory.</summary>
    public string? SpillPath { get; set; }

    /// <summary>When a reader last took the object (for choosing what to spill: least recently used first).</summary>
    public long LastUsed { get; set; } = Environment.TickCount64;

    public long Length { get; }

    /// <summary>For a copy pulled from another node: the node it was pulled from; null for an object made here.</summary>
    public string? PulledFrom { get; set; }

    /// <summary>For a copy pulled from another node: the node holding the primary (a draining node tells it the copy went).</summary>
    public string? Primary { get; set; }

    /// <summary>Bytes received so far, for an object written in chunks.</summary>
    public long Received;

    /// <summary>Written completely; only sealed objects are readable.</summary>
    public bool Sealed { get; set; }

    /// <summary>Removed from the store; its segment is recycled when the last lease goes.</summary>
    public bool Removed { get; set; }

    public int Leases => _leases;

    public void AddLease() => _leases++;

    /// <summary>Drops a lease; true when it was the last one of a removed object.</summary>
    public bool DropLease() => --_leases == 0 && Removed;

    public override Span<byte> GetSpan() => InMemory.Span(0, checked((int)Length));

    public override MemoryHandle Pin(int elementIndex = 0) => new(InMemory.Pointer + elementIndex);

    private SharedSegment InMemory => Segment ?? throw new InvalidOperationException($"Object {Id} is spilled; it is restored when a reader takes a lease.");

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        // The segment belongs to the store; leases, not this, decide when it is reused.
    }
}
