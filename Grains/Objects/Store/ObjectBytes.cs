using RayOrleans.Node;

namespace RayOrleans.Objects.Store;

/// <summary>
/// The bytes of a ready object: an array (inline, or pulled from another node) or a lease on this node's
/// store, read in place. Dispose when done reading, so the store may reuse the segment.
/// </summary>
internal readonly struct ObjectBytes : IDisposable
{
    private readonly NodeObjectStore? _store;
    private readonly StoredObject? _lease;

    public ObjectBytes(ReadOnlyMemory<byte> memory)
    {
        Memory = memory;
    }

    public ObjectBytes(NodeObjectStore store, StoredObject lease)
    {
        _store = store;
        _lease = lease;
        Memory = lease.Memory;
    }

    public ReadOnlyMemory<byte> Memory { get; }

    /// <summary>True when these bytes are the store's shared memory, read in place.</summary>
    public bool IsLease => _lease is not null;

    public void Dispose()
    {
        if (_lease is not null)
        {
            _store!.Release(_lease);
        }
    }
}
