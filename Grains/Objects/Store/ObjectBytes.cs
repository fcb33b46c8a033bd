using RayOrleans.Node;

namespace RayOrleans.Objects.Store;

/// <summary>
/// The bytes of a ready object: an array (inline, or pulled from another node), or shared memory read in
/// place under a lease (this node's store, or a same-host node's segment file mapped here). Dispose when
/// done reading, so the store may reuse the segment.
/// </summary>
internal readonly struct ObjectBytes : IDisposable
{
    private readonly Action? _release;

    public ObjectBytes(ReadOnlyMemory<byte> memory)
    {
        Memory = memory;
    }

    public ObjectBytes(NodeObjectStore store, StoredObject lease)
    {
        Memory = lease.Memory;
        _release = () => store.Release(lease);
    }

    /// <summary>Shared memory that <paramref name="release"/> lets go of (unmaps, ends its lease).</summary>
    public ObjectBytes(ReadOnlyMemory<byte> shared, Action release)
    {
        Memory = shared;
        _release = release;
    }

    public ReadOnlyMemory<byte> Memory { get; }

    /// <summary>True when these bytes are a store's shared memory, read in place.</summary>
    public bool IsLease => _release is not null;

    public void Dispose() => _release?.Invoke();
}
