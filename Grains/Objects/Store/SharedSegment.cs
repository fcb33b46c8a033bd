using System.IO.MemoryMappedFiles;

namespace RayOrleans.Objects.Store;

/// <summary>
/// One memory-mapped file in the node's shared-memory folder (under <c>/dev/shm</c> on Linux), mapped once
/// for the segment's life. Objects are written into it and read from it in place; a freed segment goes back
/// to the store's pool with its pages still resident, so the next put of a similar size pays no page faults.
/// </summary>
internal sealed unsafe class SharedSegment : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _pointer;

    private SharedSegment(string path, long capacity, MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        Path = path;
        Capacity = capacity;
        _file = file;
        _view = view;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        _pointer += _view.PointerOffset;
    }

    public string Path { get; }

    public long Capacity { get; }

    /// <summary>
    /// Creates a segment file of <paramref name="capacity"/> bytes, with its space allocated up front
    /// (posix_fallocate): a write into it then costs no allocation fault per page, only the mapping's.
    /// </summary>
    public static SharedSegment Create(string path, long capacity)
    {
        using (File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.None, preallocationSize: capacity))
        {
        }

        return Map(path, capacity);
    }

    /// <summary>Maps an existing segment file (one another process on this host wrote), all of it.</summary>
    public static SharedSegment Open(string path) => Map(path, new FileInfo(path).Length);

    private static SharedSegment Map(string path, long capacity)
    {
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity, MemoryMappedFileAccess.ReadWrite);
        try
        {
            return new SharedSegment(path, capacity, file, file.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The capacity a segment for <paramref name="size"/> bytes gets: whole 64 KiB blocks.</summary>
    public static long CapacityFor(long size) => Math.Max(Granularity, (size + Granularity - 1) / Granularity * Granularity);

    private const long Granularity = 64 * 1024;

    /// <summary>Releases the mapping but keeps the file (a writer handing the segment to its node).</summary>
    public void Unmap()
    {
        if (_pointer is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }

        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>A span over part of the mapping; valid while the segment is not disposed.</summary>
    public Span<byte> Span(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{length} bytes at {offset} are outside segment {Path} of {Capacity} bytes.");
        }

        return new Span<byte>(_pointer + offset, length);
    }

    public byte* Pointer => _pointer;

    /// <summary>Unmaps the segment and deletes its file.</summary>
    public void Dispose()
    {
        Unmap();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // The folder is removed when the node stops, and a crashed node's leftovers at the next start.
        }
    }
}
