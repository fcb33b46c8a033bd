using System.Buffers;
using System.Runtime.InteropServices;
using RayOrleans.Objects.Store;

namespace RayOrleans;

/// <summary>
/// A read-only view of an array of primitives as it lies in the node's shared-memory store: no copy, however
/// large, for an object on this process's node. It stays valid until disposed; the store does not reuse the
/// object's memory while a view is open. An object that is not in this node's store (small ones inline, or
/// one pulled from another node) is viewed over a private copy instead. Get one with
/// <see cref="Ray.GetViewAsync{T}(ObjectRef{T[]}, TimeSpan?, CancellationToken)"/>.
/// </summary>
/// <typeparam name="T">The element type: a primitive such as <see cref="byte"/>, <see cref="float"/>, <see cref="long"/>.</typeparam>
public sealed class ObjectView<T> : IDisposable where T : unmanaged
{
    private readonly Memory<T> _memory;
    private ObjectBytes _bytes;
    private int _disposed;

    internal ObjectView(ObjectBytes bytes, bool inPlace)
    {
        _bytes = bytes;
        InPlace = inPlace;
        var payload = bytes.Memory[Serialization.ObjectSerializer.RawHeader..];
        _memory = new CastMemory(payload, this).Memory;
    }

    /// <summary>The elements.</summary>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public ReadOnlySpan<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _memory.Span;
        }
    }

    /// <summary>The elements as memory (for APIs that take <see cref="ReadOnlyMemory{T}"/>); valid until the view is disposed.</summary>
    public ReadOnlyMemory<T> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _memory;
        }
    }

    /// <summary>The number of elements.</summary>
    public int Length => _memory.Length;

    /// <summary>True when the view reads the store's shared memory in place; false when it reads a private copy.</summary>
    public bool InPlace { get; }

    /// <summary>Lets the store reuse the object's memory (once no other view holds it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _bytes.Dispose();
            _bytes = default;
        }
    }

    /// <summary>The payload's bytes seen as elements of <typeparamref name="T"/> (aligned by the serializer's header).</summary>
    private sealed unsafe class CastMemory(ReadOnlyMemory<byte> bytes, ObjectView<T> owner) : MemoryManager<T>
    {
        private MemoryHandle _pin;

        public override Span<T> GetSpan()
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref owner._disposed) != 0, owner);
            return MemoryMarshal.Cast<byte, T>(MemoryMarshal.AsMemory(bytes).Span);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            _pin = MemoryMarshal.AsMemory(bytes).Pin();
            return new MemoryHandle((byte*)_pin.Pointer + elementIndex * sizeof(T));
        }

        public override void Unpin() => _pin.Dispose();

        protected override void Dispose(bool disposing)
        {
        }
    }
}
