using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace RayOrleans.Node;

/// <summary>
/// This node's store for objects too large to inline in the directory. It keeps whole byte arrays in the
/// process; the shared-memory store replaces it behind the same operations. Writes beyond the node's
/// object store memory fail with <see cref="ObjectStoreFullException"/> instead of exhausting the process.
/// </summary>
internal sealed class NodeObjectStore
{
    private readonly ConcurrentDictionary<ObjectId, byte[]> _sealed = new();
    private readonly ConcurrentDictionary<ObjectId, Partial> _partial = new();
    private long _used;

    public NodeObjectStore(IOptions<NodeOptions> options)
    {
        Capacity = options.Value.ObjectStoreMemory ?? (long)(NodeOptions.MachineMemory * 0.3);
    }

    public long Capacity { get; }

    public long Used => Interlocked.Read(ref _used);

    public int Count => _sealed.Count;

    public void Put(ObjectId id, byte[] data)
    {
        Reserve(id, data.Length);
        if (!_sealed.TryAdd(id, data))
        {
            Interlocked.Add(ref _used, -data.Length); // the first copy wins; objects are immutable
        }
    }

    public bool TryGet(ObjectId id, out byte[] data) => _sealed.TryGetValue(id, out data!);

    public byte[] Read(ObjectId id, long offset, int count)
    {
        if (!_sealed.TryGetValue(id, out var data))
        {
            throw new ObjectLostException(id, "it is not in this node's store (freed, or the node restarted).");
        }

        if (offset < 0 || count < 0 || offset > data.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Read of {count} bytes at {offset} is outside object {id} of {data.Length} bytes.");
        }

        var n = (int)Math.Min(count, data.Length - offset);
        return data.AsSpan((int)offset, n).ToArray();
    }

    /// <summary>Writes one chunk of an object sent in pieces; true when this chunk completed it.</summary>
    public bool Write(ObjectId id, long totalSize, long offset, byte[] chunk)
    {
        if (totalSize > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(totalSize), totalSize, $"Objects of more than {Array.MaxLength} bytes are not supported yet.");
        }

        var partial = _partial.GetOrAdd(id, _ =>
        {
            Reserve(id, totalSize);
            return new Partial(new byte[totalSize]);
        });
        if (offset < 0 || offset + chunk.Length > partial.Buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Chunk at {offset} of {chunk.Length} bytes overflows object {id} of {totalSize} bytes.");
        }

        chunk.CopyTo(partial.Buffer.AsSpan((int)offset));
        if (Interlocked.Add(ref partial.Received, chunk.Length) < totalSize)
        {
            return false;
        }

        _partial.TryRemove(id, out _);
        _sealed.TryAdd(id, partial.Buffer);
        return true;
    }

    public void Remove(ObjectId id)
    {
        if (_sealed.TryRemove(id, out var data))
        {
            Interlocked.Add(ref _used, -data.Length);
        }
    }

    private void Reserve(ObjectId id, long size)
    {
        var used = Interlocked.Add(ref _used, size);
        if (used > Capacity)
        {
            Interlocked.Add(ref _used, -size);
            throw new ObjectStoreFullException(
                $"Object {id} needs {size:N0} bytes but the node's object store has {Capacity - (used - size):N0} of {Capacity:N0} free. Free objects or give the node more ObjectStoreMemory.");
        }
    }

    private sealed class Partial(byte[] buffer)
    {
        public readonly byte[] Buffer = buffer;
        public long Received;
    }
}
