using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Node;

/// <summary>
/// The jobs' shipped code on this node (Ray's runtime_env working_dir, per node): on a job's first task or
/// actor here, its package is read from the object store (once per hash), checked against its SHA-256,
/// unpacked under <see cref="NodeOptions.JobCodeDirectory"/>, and loaded into a collectible context of the
/// job's own (<see cref="JobLoadContext"/>). A context no task or actor has used for
/// <see cref="NodeOptions.JobCodeIdleTimeout"/> is unloaded; a later task of the job loads it again.
/// </summary>
internal sealed partial class JobCode : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Job, string Hash), Lazy<Task<JobLoadContext>>> _contexts = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _folders = new(StringComparer.Ordinal);
    private readonly Func<RayRuntime> _runtime;
    private readonly ILogger _logger;
    private readonly string _root;
    private readonly TimeSpan _idle;
    private readonly CancellationTokenSource _stop = new();
    private int _sweeping;

    public JobCode(string? root, TimeSpan idle, Func<RayRuntime> runtime, ILogger logger)
    {
        if (idle <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(idle), idle, "JobCodeIdleTimeout must be positive.");
        }

        _root = Path.GetFullPath(root ?? Path.Combine(Path.GetTempPath(), "rayorleans-code"));
        _idle = idle;
        _runtime = runtime;
        _logger = logger;
    }

    /// <summary>The job contexts loaded now.</summary>
    public IReadOnlyCollection<JobLoadContext> Loaded =>
        _contexts.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result).ToList();

    /// <summary>The job's code context, counted as used until <see cref="JobLoadContext.Release"/>.</summary>
    public async Task<JobLoadContext> AcquireAsync(CodePackage code, string jobId, CancellationToken cancellation)
    {
        EnsureSweep();
        while (true)
        {
            var key = (jobId, code.Hash);
            var lazy = _contexts.GetOrAdd(key, k => new Lazy<Task<JobLoadContext>>(() => LoadAsync(code, k.Job)));
            JobLoadContext context;
            try
            {
                context = await lazy.Value.WaitAsync(cancellation).ConfigureAwait(false);
            }
            catch when (!cancellation.IsCancellationRequested)
            {
                _contexts.TryRemove(KeyValuePair.Create(key, lazy)); // the next task tries again
                throw;
            }

            if (context.TryAcquire())
            {
                return context;
            }

            _contexts.TryRemove(KeyValuePair.Create(key, lazy)); // unloaded meanwhile: load a fresh one
        }
    }

    private async Task<JobLoadContext> LoadAsync(CodePackage code, string jobId)
    {
        var unpacking = _folders.GetOrAdd(code.Hash, h => new Lazy<Task<string>>(() => UnpackAsync(code)));
        string folder;
        try
        {
            folder = await unpacking.Value.ConfigureAwait(false);
        }
        catch
        {
            _folders.TryRemove(KeyValuePair.Create(code.Hash, unpacking)); // a failed read (a timeout, a freed package) is tried again next time
            throw;
        }

        LogLoaded(_logger, jobId, code.Hash, folder);
        return new JobLoadContext(jobId, code.Hash, folder);
    }

    /// <summary>Reads the package and unpacks it into a folder named by its hash (kept: a later job with the same code reuses it).</summary>
    private async Task<string> UnpackAsync(CodePackage code)
    {
        WorkerContext.Leave();
        if (!IsHash(code.Hash))
        {
            throw new InvalidDataException($"'{code.Hash}' is not a SHA-256 code package hash.");
        }

        var folder = Path.Combine(_root, code.Hash);
        if (Directory.Exists(folder))
        {
            return folder;
        }

        var zip = await ReadPackageAsync(code).ConfigureAwait(false); // checked against its hash, wherever it came from
        Keep(code.Hash, zip);

        // Unpacked beside its final place, then moved in one step: a process on this host unpacking the same
        // package at the same time finds either nothing or the whole folder.
        Directory.CreateDirectory(_root);
        var scratch = folder + ".part-" + Guid.NewGuid().ToString("N")[..8];
        using (var stream = new MemoryStream(zip, writable: false))
        {
            ZipFile.ExtractToDirectory(stream, scratch); // throws on an entry that would land outside the folder
        }

        try
        {
            Directory.Move(scratch, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            Directory.Delete(scratch, recursive: true);
        }

        return folder;
    }

    /// <summary>How long a read of a package from the object store may take before the other nodes are asked too.</summary>
    private static readonly TimeSpan PeersAfter = TimeSpan.FromSeconds(10);

    /// <summary>The most bytes one <see cref="ReadKeptAsync"/> answers (a chunk of a peer's read).</summary>
    public const int MaxChunk = 4 << 20;

    /// <summary>
    /// The package's bytes: from the object store, or, when that read fails or takes longer than
    /// <see cref="PeersAfter"/>, from a node that unpacked it before and kept its bytes. The package is a put with
    /// no lineage: once its driver exited and its only stored copy died with a node, the nodes that unpacked it
    /// are the only place left (Ray keeps its packages in the GCS for the same reason).
    /// </summary>
    private async Task<byte[]> ReadPackageAsync(CodePackage code)
    {
        var read = ReadFromStoreAsync(code);
        if (await Task.WhenAny(read, Task.Delay(PeersAfter)).ConfigureAwait(false) == read && read.IsCompletedSuccessfully)
        {
            return read.Result;
        }

        if (await ReadFromPeersAsync(code).ConfigureAwait(false) is { } bytes)
        {
            _ = read.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return bytes;
        }

        return await read.ConfigureAwait(false); // no node keeps it: the store's answer, or its error
    }

    private async Task<byte[]> ReadFromStoreAsync(CodePackage code)
    {
        var zip = (byte[]?)await _runtime().GetAsync(code.Object, typeof(byte[]), TimeSpan.FromMinutes(5), CancellationToken.None).ConfigureAwait(false)
            ?? throw new InvalidDataException($"The code package {code.Hash} is empty.");
        var hash = Convert.ToHexStringLower(SHA256.HashData(zip));
        return hash == code.Hash
            ? zip
            : throw new InvalidDataException($"The code package read has SHA-256 {hash}, not {code.Hash}: it was changed or damaged.");
    }

    /// <summary>The package from the first other live node that keeps it whole and unchanged (checked against its hash); null when none does.</summary>
    private async Task<byte[]?> ReadFromPeersAsync(CodePackage code)
    {
        var runtime = _runtime();
        foreach (var peer in runtime.Cluster.Nodes.Select(n => n.NodeId).Where(n => n != runtime.LocalNodeId))
        {
            try
            {
                var node = runtime.Node(peer);
                var size = await node.CodePackageSizeAsync(code.Hash).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                if (size < 0 || size > Array.MaxLength)
                {
                    continue;
                }

                var bytes = new byte[size];
                for (long offset = 0; offset < size;)
                {
                    var chunk = await node.ReadCodePackageAsync(code.Hash, offset, (int)Math.Min(MaxChunk, size - offset)).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                    if (chunk is not { Length: > 0 })
                    {
                        break; // dropped meanwhile
                    }

                    chunk.CopyTo(bytes, offset);
                    offset += chunk.Length;
                    if (offset == size && Convert.ToHexStringLower(SHA256.HashData(bytes)) == code.Hash)
                    {
                        LogFromPeer(_logger, code.Hash, peer);
                        return bytes;
                    }
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or IOException)
            {
                // That node is gone or busy: the next one
            }
        }

        return null;
    }

    /// <summary>Keeps the package's bytes beside its folder (written whole, then moved into place), for nodes that cannot read it elsewhere.</summary>
    private void Keep(string hash, byte[] zip)
    {
        var path = KeptPath(hash);
        if (File.Exists(path))
        {
            return;
        }

        var scratch = path + ".part-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(_root);
            File.WriteAllBytes(scratch, zip);
            File.Move(scratch, path);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(scratch); // another process on this host kept it first
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not kept: the code runs all the same; only other nodes' fallback loses this copy.
            LogKeepFailed(_logger, hash, path, e);
            File.Delete(scratch);
        }
    }

    /// <summary>The size of the package this node keeps, or -1 (not kept, or not a package hash: the name is a path here).</summary>
    public long KeptSize(string hash) => IsHash(hash) && new FileInfo(KeptPath(hash)) is { Exists: true } file ? file.Length : -1;

    /// <summary>A chunk of a kept package (<see cref="Grains.INodeGrain.ReadCodePackageAsync"/>); null when it is not kept here.</summary>
    public async Task<byte[]?> ReadKeptAsync(string hash, long offset, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!IsHash(hash) || !File.Exists(KeptPath(hash)))
        {
            return null;
        }

        await using var file = new FileStream(KeptPath(hash), FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        var buffer = new byte[(int)Math.Clamp(Math.Min(count, file.Length - offset), 0, MaxChunk)];
        file.Position = Math.Min(offset, file.Length);
        await file.ReadExactlyAsync(buffer).ConfigureAwait(false);
        return buffer;
    }

    private string KeptPath(string hash) => Path.Combine(_root, hash + ".zip");

    private static bool IsHash(string hash) => hash.Length == 64 && hash.All(Uri.IsHexDigit);

    /// <summary>
    /// The job ended (its driver exited or was stopped): its code is unloaded as soon as its last task ends and
    /// its last actor dies, without waiting for the idle timeout. Returns how many of its contexts were loaded.
    /// </summary>
    public int JobEnded(string jobId)
    {
        var count = 0;
        foreach (var (key, lazy) in _contexts)
        {
            if (key.Job == jobId && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                count++;
                lazy.Value.Result.Ended = true;
                if (lazy.Value.Result.TryUnload(long.MaxValue))
                {
                    _contexts.TryRemove(KeyValuePair.Create(key, lazy)); // nothing runs it now: at once (else at the next sweep)
                    LogUnloaded(_logger, key.Job, key.Hash);
                }
            }
        }

        EnsureSweep();
        return count;
    }

    private void EnsureSweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 0)
        {
            // The sweep lives as long as the node: it must not hold on to the execution context of the task
            // or actor that happened to start it.
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(SweepAsync);
            }
        }
    }

    /// <summary>Unloads contexts idle for longer than the timeout, checking a few times per timeout.</summary>
    private async Task SweepAsync()
    {
        WorkerContext.Leave();
        var period = TimeSpan.FromTicks(Math.Clamp(_idle.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var idleSince = Environment.TickCount64 - (long)_idle.TotalMilliseconds;
                foreach (var (key, lazy) in _contexts)
                {
                    if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully &&
                        lazy.Value.Result.TryUnload(lazy.Value.Result.Ended ? long.MaxValue : idleSince))
                    {
                        _contexts.TryRemove(KeyValuePair.Create(key, lazy));
                        LogUnloaded(_logger, key.Job, key.Hash);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read code package {Hash} from node {Node}, which kept it: the object store could not give it in time.")]
    private static partial void LogFromPeer(ILogger logger, string hash, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not keep the bytes of code package {Hash} at {Path}; other nodes cannot read it from this one.")]
    private static partial void LogKeepFailed(ILogger logger, string hash, string path, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded the code of job {JobId} (package {Hash}) from {Folder}.")]
    private static partial void LogLoaded(ILogger logger, string jobId, string hash, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloaded the code of job {JobId} (package {Hash}): idle, or its job ended.")]
    private static partial void LogUnloaded(ILogger logger, string jobId, string hash);
}
