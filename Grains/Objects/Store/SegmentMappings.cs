namespace RayOrleans.Objects.Store;

/// <summary>
/// A process's mappings of same-host nodes' segment files, kept after use: nodes reuse their segments, so
/// the next put or get through the same segment finds it mapped (no mapping call, no page-table faults).
/// Mappings in use are never dropped; idle ones go, least recently used first, past <see cref="Budget"/>
/// bytes (a segment the node deleted stays in memory only while mapped here).
/// </summary>
internal sealed class SegmentMappings
{
    /// <summary>
    /// Bytes of idle mappings kept. 4 GiB: a driver putting arrays of close to a gigabyte cycles through three or
    /// four of its node's segments (a put's segment is reused once its ref is collected), and a mapping dropped
    /// and made again faults every page in again.
    /// </summary>
    public const long Budget = 4L << 30;

    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _idle = new();
    private long _idleBytes;

    /// <summary>The mapping of <paramref name="path"/>, in use until <see cref="Return"/>.</summary>
    public SharedSegment Rent(string path)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(path, out var entry))
            {
                if (entry.Users++ == 0)
                {
                    _idle.Remove(entry.Node);
                    _idleBytes -= entry.Segment.Capacity;
                }

                return entry.Segment;
            }
        }

        var segment = SharedSegment.Open(path);
        lock (_gate)
        {
            if (_entries.TryGetValue(path, out var raced))
            {
                segment.Unmap();
                if (raced.Users++ == 0)
                {
                    _idle.Remove(raced.Node);
                    _idleBytes -= raced.Segment.Capacity;
                }

                return raced.Segment;
            }

            var entry = new Entry(path, segment) { Users = 1 };
            entry.Node = new LinkedListNode<Entry>(entry);
            _entries[path] = entry;
            return segment;
        }
    }

    public void Return(string path)
    {
        List<SharedSegment>? drop = null;
        lock (_gate)
        {
            if (!_entries.TryGetValue(path, out var entry) || --entry.Users > 0)
            {
                return;
            }

            _idle.AddLast(entry.Node);
            _idleBytes += entry.Segment.Capacity;
            while (_idleBytes > Budget && _idle.First is { } oldest)
            {
                _idle.RemoveFirst();
                _idleBytes -= oldest.Value.Segment.Capacity;
                _entries.Remove(oldest.Value.Path);
                (drop ??= []).Add(oldest.Value.Segment);
            }
        }

        foreach (var segment in drop ?? [])
        {
            segment.Unmap(); // the file is the node's
        }
    }

    private sealed class Entry(string path, SharedSegment segment)
    {
        public string Path { get; } = path;
        public SharedSegment Segment { get; } = segment;
        public int Users;
        public LinkedListNode<Entry> Node = null!;
    }
}
