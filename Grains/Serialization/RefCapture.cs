using RayOrleans.Messages;

namespace RayOrleans.Serialization;

/// <summary>
/// Collects the refs written into a value while it is serialized on this thread (serialization is
/// synchronous), so whoever stores or sends the value can make it a holder of each of them.
/// </summary>
internal sealed class RefCapture : IDisposable
{
    [ThreadStatic]
    private static RefCapture? _current;

    private readonly RefCapture? _outer;
    private HashSet<ObjectId>? _ids;

    private RefCapture()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>Starts capturing on this thread; dispose to stop.</summary>
    public static RefCapture Begin() => new();

    /// <summary>The refs written since <see cref="Begin"/>, each once; null when none.</summary>
    public ObjectId[]? Ids => _ids is null ? null : [.. _ids];

    /// <summary>Records a ref being written, when a capture is running on this thread.</summary>
    public static void Add(ObjectId id)
    {
        if (_current is { } capture)
        {
            (capture._ids ??= []).Add(id);
        }
    }

    public void Dispose() => _current = _outer;

    /// <summary>Serializes <paramref name="value"/>, returning the refs written into it (null when none).</summary>
    public static byte[] Serialize(ObjectSerializer serializer, object? value, Type type, out ObjectId[]? refs)
    {
        using var capture = Begin();
        var bytes = serializer.Serialize(value, type);
        refs = capture.Ids;
        return bytes;
    }
}
