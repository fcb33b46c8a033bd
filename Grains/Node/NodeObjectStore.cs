using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RayOrleans.Objects.Store;

namespace RayOrleans.Node;

/// <summary>
/// This node's store for objects too large to inline: memory-mapped segments in a folder of its own under
/// <c>/dev/shm/rayorleans</c> (<see cref="NodeOptions.ObjectStoreDirectory"/>), one segment per object.
/// Objects are written and read in place. A freed object's segment is kept mapped in a pool and reused for a
/// later object of about its size, so repeated large puts pay no page faults; pooled segments give way when
/// live objects need the room. Writes beyond <see cref="Capacity"/> fail with <see cref="ObjectStoreFullException"/>
/// saying what holds the memory. The folder is removed when the node stops; folders left by a node process
/// that died are removed when the next node on the machine starts.
/// </summary>
internal sealed partial class NodeObjectStore : IDisposable
{
    private const long SegmentGranularity = 64 * 1024;

    /// <summary>This machine (name and boot): a driver whose host id matches a node's writes into its folder directly.</summary>
    public static string HostId { get; } = Environment.MachineName + "/" + ReadBootId();

    private static string ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
    private const string OwnerFile = "owner.pid";

    private readonly object _gate = new();
    private readonly Dictionary<ObjectId, StoredObject> _objects = new();
    private readonly List<SharedSegment> _pool = new();
    private readonly Dictionary<ObjectId, StoredObject> _leasedRemoved = new();
    private readonly ILogger<NodeObjectStore> _logger;
    private long _used;
    private long _pooled;
    private long _spilled;
    private long _segments;
    private bool _disposed;

    public NodeObjectStore(IOptions<NodeOptions> options, ILocalSiloDetails silo, ILogger<NodeObjectStore> logger)
        : this(options.Value, $"{silo.ClusterId}-{silo.SiloAddress.ToParsableString()}", logger)
    {
    }

    /// <param name="options">Capacity and folder.</param>
    /// <param name="nodeName">Names this node's folder (with the process id).</param>
    /// <param name="logger">For leftover cleanup.</param>
    internal NodeObjectStore(NodeOptions options, string nodeName, ILogger<NodeObjectStore> logger)
    {
        _logger = logger;
        Capacity = options.ObjectStoreMemory ?? (long)(NodeOptions.MachineMemory * 0.3);
        var root = options.ObjectStoreDirectory ?? ChooseRoot(Capacity);
        Directory.CreateDirectory(root);
        RemoveLeftovers(root);
        Folder = Path.Combine(root, Sanitize($"{nodeName}-{Environment.ProcessId}"));
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Path.Combine(Folder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var spillRoot = options.SpillDirectory ?? Path.Combine(Path.GetTempPath(), "rayorleans-spill");
        Directory.CreateDirectory(spillRoot);
        RemoveLeftovers(spillRoot);
        SpillFolder = Path.Combine(spillRoot, Path.GetFileName(Folder));
        Directory.CreateDirectory(SpillFolder);
        File.WriteAllText(Path.Combine(SpillFolder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The folder of this node's segments.</summary>
    public string Folder { get; }

    public long Capacity { get; }

    /// <summary>Bytes held by live objects (their segments' sizes).</summary>
    public long Used => Interlocked.Read(ref _used);

    /// <summary>Bytes of objects spilled to disk (<see cref="SpillFolder"/>) to make room; restored when read.</summary>
    public long Spilled => Interlocked.Read(ref _spilled);

    /// <summary>Where objects spill when memory is full: a folder per node process.</summary>
    public string SpillFolder { get; }

    /// <summary>Bytes held by freed segments kept for reuse; they give way to live objects.</summary>
    public long Pooled => Interlocked.Read(ref _pooled);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _objects.Count;
            }
        }
    }

    /// <summary>Usage and the <paramref name="top"/> largest objects, for the memory view.</summary>
    public Messages.NodeMemory Describe(string nodeId, int top)
    {
        lock (_gate)
        {
            return new Messages.NodeMemory
            {
                NodeId = nodeId, Used = _used, Pooled = _pooled, Spilled = _spilled, Capacity = Capacity, Count = _objects.Count,
                Largest = _objects.Values.OrderByDescending(o => o.Length).Take(Math.Max(0, top))
                    .Select(o => new Messages.StoredObjectInfo { Id = o.Id, Size = o.Length, Spilled = o.SpillPath is not null, Readers = o.Leases, PulledFrom = o.PulledFrom })
                    .ToArray(),
            };
        }
    }

    /// <summary>The objects here now, sealed or not (a draining node moves or drops each).</summary>
    public List<StoredObject> Snapshot()
    {
        lock (_gate)
        {
            return [.. _objects.Values];
        }
    }

    /// <summary>Stores a whole object (one copy into its segment).</summary>
    public void Put(ObjectId id, ReadOnlySpan<byte> data)
    {
        var stored = Create(id, data.Length);
        data.CopyTo(stored.GetSpan());
        Seal(stored);
    }

    /// <summary>
    /// Makes room for an object of <paramref name="size"/> bytes and returns it unsealed, for the caller to
    /// write in place and then <see cref="Seal(StoredObject)"/>. Throws <see cref="ObjectStoreFullException"/> when live
    /// objects leave no room.
    /// </summary>
    public StoredObject Create(ObjectId id, long size)
    {
        try
        {
            return CreateOnce(id, size, spill: Reclaim is null);
        }
        catch (ObjectStoreFullException) when (Reclaim is { } reclaim)
        {
            // Objects whose refs are gone but not yet collected hold room: collect them, then try once more,
            // spilling to disk if that is still not enough.
            reclaim();
            return CreateOnce(id, size, spill: true);
        }
    }

    /// <summary>
    /// Called once when a put finds the store full, before it fails: frees what is no longer referenced
    /// (the node's runtime runs a garbage collection and applies the releases it queues).
    /// </summary>
    public Action? Reclaim { get; set; }

    private StoredObject CreateOnce(ObjectId id, long size, bool spill)
    {
        if (size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Objects of more than {Array.MaxLength:N0} bytes are not supported yet.");
        }

        var capacity = SharedSegment.CapacityFor(size);
        SharedSegment? segment;
        var evicted = new List<SharedSegment>();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_objects.ContainsKey(id))
            {
                throw new InvalidOperationException($"Object {id} is already in this node's store; objects are immutable.");
            }

            segment = TakePooled(size);
            if (segment is null)
            {
                // Pooled segments give way (largest first) before a put is refused.
                while (_used + _pooled + capacity > Capacity && _pool.Count > 0)
                {
                    var largest = _pool.MaxBy(s => s.Capacity)!;
                    _pool.Remove(largest);
                    _pooled -= largest.Capacity;
                    evicted.Add(largest);
                }

                if (spill && _used + capacity > Capacity)
                {
                    SpillLocked(capacity, except: null);
                }

                if (_used + capacity > Capacity)
                {
                    throw Full(id, capacity);
                }

                _used += capacity;
            }
            else
            {
                _used += segment.Capacity;
            }

            _segments++;
        }

        foreach (var old in evicted)
        {
            old.Dispose();
        }

        if (segment is null)
        {
            try
            {
                segment = SharedSegment.Create(Path.Combine(Folder, $"seg-{Guid.NewGuid():N}"), capacity);
            }
            catch (IOException e)
            {
                Interlocked.Add(ref _used, -capacity);
                throw new ObjectStoreFullException(
                    $"Object {id} needs {capacity:N0} bytes, but its segment could not be allocated in {Folder}: {e.Message} " +
                    "The file system there is smaller than the store's capacity: give it more room, or set ObjectStoreMemory / ObjectStoreDirectory.");
            }
            catch
            {
                Interlocked.Add(ref _used, -capacity);
                throw;
            }
        }

        var stored = new StoredObject(id, segment, size);
        lock (_gate)
        {
            _objects[id] = stored;
        }

        return stored;
    }

    /// <summary>Seals an object reserved with <see cref="Create"/> and written by a driver on this host.</summary>
    public void Seal(ObjectId id)
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue(id, out var stored))
            {
                throw new ObjectLostException(id, "it was not reserved in this node's store (or was freed before it was sealed).");
            }

            stored.Sealed = true;
        }
    }

    /// <summary>
    /// Leases a sealed object to a reader in another process on this host: returns its segment file's path
    /// (the reader maps it), or null when the object is not here. End it with <see cref="EndFileLease"/>.
    /// </summary>
    public string? BeginFileLease(ObjectId id) => TryAcquire(id, out var stored) ? stored.Segment!.Path : null;

    public void EndFileLease(ObjectId id)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue(id, out var stored) || _leasedRemoved.TryGetValue(id, out stored))
            {
                if (stored.DropLease())
                {
                    _leasedRemoved.Remove(id);
                    Recycle(stored.Segment!);
                }
            }
        }
    }

    /// <summary>The object is written: readers may have it.</summary>
    public void Seal(StoredObject stored)
    {
        lock (_gate)
        {
            stored.Sealed = true;
        }
    }

    /// <summary>A lease on a sealed object, to read it in place; give it back with <see cref="Release"/>.</summary>
    public bool TryAcquire(ObjectId id, out StoredObject stored)
    {
        lock (_gate)
        {
            if (_objects.TryGetValue(id, out stored!) && stored.Sealed && !stored.Removed)
            {
                if (stored.Segment is null)
                {
                    RestoreLocked(stored);
                }

                stored.AddLease();
                stored.LastUsed = Environment.TickCount64;
                return true;
            }
        }

        stored = null!;
        return false;
    }

    public void Release(StoredObject stored)
    {
        lock (_gate)
        {
            if (stored.DropLease())
            {
                _leasedRemoved.Remove(stored.Id);
                Recycle(stored.Segment!);
            }
        }
    }

    public bool Contains(ObjectId id)
    {
        lock (_gate)
        {
            return _objects.TryGetValue(id, out var stored) && stored.Sealed;
        }
    }

    /// <summary>A copy of part of an object, for a node that pulls it in chunks.</summary>
    public byte[] Read(ObjectId id, long offset, int count)
    {
        if (!TryAcquire(id, out var stored))
        {
            throw new ObjectLostException(id, "it is not in this node's store (freed, or the node restarted).");
        }

        try
        {
            if (offset < 0 || count < 0 || offset > stored.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"Read of {count} bytes at {offset} is outside object {id} of {stored.Length} bytes.");
            }

            var n = (int)Math.Min(count, stored.Length - offset);
            return stored.Segment!.Span(offset, n).ToArray();
        }
        finally
        {
            Release(stored);
        }
    }

    /// <summary>Writes one chunk of an object sent in pieces; true when this chunk completed it.</summary>
    public bool Write(ObjectId id, long totalSize, long offset, byte[] chunk)
    {
        StoredObject? stored;
        lock (_gate)
        {
            _objects.TryGetValue(id, out stored);
        }

        if (stored is null)
        {
            try
            {
                stored = Create(id, totalSize);
            }
            catch (InvalidOperationException)
            {
                lock (_gate)
                {
                    stored = _objects[id]; // another chunk created it first
                }
            }
        }

        if (stored.Sealed)
        {
            return false; // a repeated chunk of an object already complete
        }

        if (offset < 0 || offset + chunk.Length > stored.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Chunk at {offset} of {chunk.Length} bytes overflows object {id} of {stored.Length} bytes.");
        }

        chunk.CopyTo(stored.Segment!.Span(offset, chunk.Length));
        if (Interlocked.Add(ref stored.Received, chunk.Length) < stored.Length)
        {
            return false;
        }

        Seal(stored);
        return true;
    }

    /// <summary>Called after an object is removed (outside the store's lock): its node frees the copies other nodes pulled.</summary>
    public Action<ObjectId>? Removed { get; set; }

    /// <summary>Frees an object: its segment returns to the pool now, or when its last reader lets go.</summary>
    public void Remove(ObjectId id)
    {
        if (RemoveLocked(id))
        {
            Removed?.Invoke(id);
        }
    }

    private bool RemoveLocked(ObjectId id)
    {
        lock (_gate)
        {
            if (!_objects.Remove(id, out var stored))
            {
                return false;
            }

            stored.Removed = true;
            if (stored.SpillPath is { } spilled)
            {
                DeleteSpilled(stored, spilled);
            }
            else if (stored.Leases == 0)
            {
                Recycle(stored.Segment!);
            }
            else
            {
                _leasedRemoved[id] = stored;
            }

            return true;
        }
    }

    private void Recycle(SharedSegment segment)
    {
        _used -= segment.Capacity;
        if (_disposed)
        {
            segment.Dispose();
            return;
        }

        _pool.Add(segment);
        _pooled += segment.Capacity;
    }

    /// <summary>The smallest pooled segment that holds <paramref name="size"/> without wasting more than half of itself.</summary>
    private SharedSegment? TakePooled(long size)
    {
        SharedSegment? best = null;
        foreach (var segment in _pool)
        {
            if (segment.Capacity >= size && segment.Capacity <= 2 * size + SegmentGranularity && (best is null || segment.Capacity < best.Capacity))
            {
                best = segment;
            }
        }

        if (best is not null)
        {
            _pool.Remove(best);
            _pooled -= best.Capacity;
        }

        return best;
    }

    private ObjectStoreFullException Full(ObjectId id, long capacity)
    {
        if (capacity > Capacity)
        {
            return new ObjectStoreFullException(
                $"Object {id} needs {capacity:N0} bytes, more than this node's whole object store ({Capacity:N0} bytes): it can never be stored here. " +
                "Give the node more ObjectStoreMemory, or split the object.");
        }

        var largest = _objects.Values.Where(o => o.Segment is not null).OrderByDescending(o => o.Length).Take(3).Select(o => $"{o.Id} ({o.Length:N0} bytes)");
        return new ObjectStoreFullException(
            $"Object {id} needs {capacity:N0} bytes but the node's object store has {Capacity - _used:N0} of {Capacity:N0} free, " +
            $"held by {_objects.Count:N0} objects (largest: {string.Join(", ", largest)}) that readers hold or that cannot spill; {_spilled:N0} bytes are spilled to {SpillFolder}. " +
            "Free objects or give the node more ObjectStoreMemory.");
    }

    /// <summary>Removes the folders of node processes that are gone (a node killed without stopping).</summary>
    private void RemoveLeftovers(string root)
    {
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            try
            {
                var owner = Path.Combine(folder, OwnerFile);
                if (File.Exists(owner) && int.TryParse(File.ReadAllText(owner), CultureInfo.InvariantCulture, out var pid) && !IsAlive(pid))
                {
                    Directory.Delete(folder, recursive: true);
                    LogLeftoverRemoved(_logger, folder, pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another node may be cleaning it at the same moment; whoever is last removes it.
            }
        }
    }

    private static bool IsAlive(int pid) =>
        OperatingSystem.IsLinux() ? Directory.Exists($"/proc/{pid}") : ProcessExists(pid);

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// <c>/dev/shm/rayorleans</c> when that memory file system can hold the whole capacity; else the temporary
    /// folder (slower, on disk), with a warning, as Ray falls back to /tmp when /dev/shm is too small (a
    /// container's /dev/shm is often 64 MB).
    /// </summary>
    private string ChooseRoot(long capacity)
    {
        var shm = DefaultRoot();
        if (!shm.StartsWith("/dev/shm", StringComparison.Ordinal))
        {
            return shm;
        }

        long free;
        try
        {
            free = new DriveInfo("/dev/shm").AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            free = 0;
        }

        if (free >= capacity)
        {
            return shm;
        }

        var fallback = Path.Combine(Path.GetTempPath(), "rayorleans");
        LogShmTooSmall(_logger, free, capacity, fallback);
        return fallback;
    }

    internal static string DefaultRoot() =>
        Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "rayorleans");

    private static string Sanitize(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_'));

    public void Dispose()
    {
        List<SharedSegment> segments;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            segments = [.. _pool, .. _objects.Values.Where(o => o.Leases == 0 && o.Segment is not null).Select(o => o.Segment!)];
            _pool.Clear();
            _objects.Clear();
        }

        foreach (var segment in segments)
        {
            segment.Dispose();
        }

        foreach (var folder in new[] { Folder, SpillFolder })
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Spills sealed objects no reader holds, least recently used first, to files in <see cref="SpillFolder"/>
    /// until <paramref name="needed"/> more bytes fit in memory (or nothing is left to spill). Runs under
    /// the store's lock, so the store waits while it writes: spilling is the slow path of a full store.
    /// </summary>
    private void SpillLocked(long needed, StoredObject? except)
    {
        var candidates = _objects.Values
            .Where(o => o.Sealed && !o.Removed && o.Leases == 0 && o.Segment is not null && o != except)
            .OrderBy(o => o.LastUsed)
            .ToList();
        foreach (var victim in candidates)
        {
            if (_used + needed <= Capacity)
            {
                return;
            }

            Directory.CreateDirectory(SpillFolder);
            var path = Path.Combine(SpillFolder, $"{victim.Id.TaskId:N}-{victim.Id.Index}");
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.None))
            {
                file.Write(victim.Segment!.Span(0, checked((int)victim.Length)));
            }

            var segment = victim.Segment!;
            victim.Segment = null;
            victim.SpillPath = path;
            _used -= segment.Capacity;
            _spilled += victim.Length;
            segment.Dispose();
            LogSpilled(_logger, victim.Id, victim.Length, path);
        }
    }

    /// <summary>Brings a spilled object back into memory (spilling others if it must) for a reader.</summary>
    private void RestoreLocked(StoredObject stored)
    {
        var capacity = SharedSegment.CapacityFor(stored.Length);
        var segment = TakePooled(stored.Length);
        if (segment is null)
        {
            while (_used + _pooled + capacity > Capacity && _pool.Count > 0)
            {
                var largest = _pool.MaxBy(s => s.Capacity)!;
                _pool.Remove(largest);
                _pooled -= largest.Capacity;
                largest.Dispose();
            }

            if (_used + capacity > Capacity)
            {
                SpillLocked(capacity, except: stored);
            }

            if (_used + capacity > Capacity)
            {
                throw Full(stored.Id, capacity);
            }

            segment = SharedSegment.Create(Path.Combine(Folder, $"seg-{Guid.NewGuid():N}"), capacity);
        }

        using (var file = new FileStream(stored.SpillPath!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.None))
        {
            file.ReadExactly(segment.Span(0, checked((int)stored.Length)));
        }

        _used += segment.Capacity;
        DeleteSpilled(stored, stored.SpillPath!);
        stored.Segment = segment;
        LogRestored(_logger, stored.Id, stored.Length);
    }

    private void DeleteSpilled(StoredObject stored, string path)
    {
        File.Delete(path);
        stored.SpillPath = null;
        _spilled -= stored.Length;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "/dev/shm has {Free} bytes free, less than the object store's {Capacity}; its segments go to {Fallback} instead (on disk: slower). Give /dev/shm more room (docker run --shm-size) or lower ObjectStoreMemory.")]
    private static partial void LogShmTooSmall(ILogger logger, long free, long capacity, string fallback);

    [LoggerMessage(Level = LogLevel.Information, Message = "Spilled object {Id} ({Length} bytes) to {Path} to make room in memory.")]
    private static partial void LogSpilled(ILogger logger, ObjectId id, long length, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored spilled object {Id} ({Length} bytes) for a reader.")]
    private static partial void LogRestored(ILogger logger, ObjectId id, long length);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the object store folder {Folder} of node process {Pid}, which is gone.")]
    private static partial void LogLeftoverRemoved(ILogger logger, string folder, int pid);
}
