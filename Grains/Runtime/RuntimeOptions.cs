namespace RayOrleans.Runtime;

/// <summary>Tuning of the object layer and the driver, shared by drivers and nodes.</summary>
public sealed class RuntimeOptions
{
    /// <summary>
    /// Objects up to this many serialized bytes live inline in the object directory, so a get is one grain
    /// call; larger ones stay in the producing node's store. Default 100 KiB, as Ray's
    /// max_direct_call_object_size. Range 0 to <see cref="ChunkSize"/>.
    /// </summary>
    public int InlineThreshold { get; set; } = 100 * 1024;

    /// <summary>
    /// Size of one chunk when a large object moves between nodes. Default 8 MiB: well under Orleans'
    /// 100 MB message cap, and large enough that per-message overhead is noise. Range 64 KiB to 64 MiB.
    /// </summary>
    public int ChunkSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Number of object directory shards (grains). Default 32. Fixed for a cluster's lifetime.</summary>
    public int DirectoryShards { get; set; } = 32;

    /// <summary>
    /// Longest a single directory wait stays parked before the caller asks again. Default 10 s: well under
    /// Orleans' 30 s response timeout, so a long get never looks like a dead silo.
    /// </summary>
    public TimeSpan LongPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a directory shard that lost its records with a dead node waits for every process to publish again
    /// what it owns and holds, before it frees what nobody re-registered a hold on and declares lost what no owner
    /// published again (its readers get <see cref="ObjectLostException"/>). Every process re-publishes about a
    /// cluster-view refresh after membership declares the node dead, so the wait covers a slow process, not the
    /// failure detection. Set on the nodes (the shards use theirs). Default 10 s. Range 1 s to 5 min.
    /// </summary>
    public TimeSpan DirectoryRebuildWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a driver refreshes its view of the nodes. Default 500 ms.</summary>
    public TimeSpan ClusterRefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Whether a process on the same host as a node reads and writes that node's large objects through its
    /// shared-memory segments (true), or moves them in chunks over Orleans as between hosts (false). Default
    /// true; false exercises (or measures) the cross-host path on one machine.
    /// </summary>
    public bool SameHostSharedMemory { get; set; } = true;

    /// <summary>
    /// The most bytes of by-value arguments a task's lineage may keep alive with its results (the owner keeps
    /// each task's spec to run it again if a result is lost). A task passing more by value keeps no lineage:
    /// a lost result of it fails with <c>ObjectLostException</c> saying so. Pass large data as a ref (put it
    /// first) to keep it rebuildable without copying it into every spec. Default 1 MiB, as Ray bounds lineage.
    /// </summary>
    public long MaxLineageArgumentBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// By-value arguments larger than this many serialized bytes do not travel inside the task's message: the
    /// caller puts each into the object store first and passes a ref (as Ray does above 100 KB), so a message
    /// never nears Orleans' 100 MB limit and a node on the same host reads it in place. Default 1 MiB. Range
    /// <see cref="InlineThreshold"/> to 64 MiB.
    /// </summary>
    public int MaxInlineArgumentBytes { get; set; } = 1024 * 1024;

    /// <summary>How often a driver tells the cluster it is alive. Default 5 s.</summary>
    public TimeSpan DriverHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the cluster waits for a driver's heartbeat before declaring it lost and killing its job's
    /// non-detached actors (read on the silos). Default 30 s; at least twice <see cref="DriverHeartbeatInterval"/>.
    /// </summary>
    public TimeSpan DriverTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether this runtime sends its tasks and actor calls to each other node in batches and gets their replies back
    /// in batches, instead of one call each: one message per batch each way. This covers a driver outside the cluster
    /// (an Orleans client, through its gateway) and a node's runtime (work that tasks and actors running there send to
    /// other nodes). A burst of submissions is batched; a lone task is sent at once; work for the runtime's own node
    /// never leaves the process. Default true.
    /// </summary>
    public bool BatchSubmissions { get; set; } = true;

    /// <summary>Checks the values are in range; throws naming the bad one.</summary>
    public void Validate()
    {
        if (MaxInlineArgumentBytes < InlineThreshold || MaxInlineArgumentBytes > 64 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInlineArgumentBytes), MaxInlineArgumentBytes, "MaxInlineArgumentBytes must be between InlineThreshold and 64 MiB.");
        }

        if (ChunkSize is < 64 * 1024 or > 64 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, "ChunkSize must be between 64 KiB and 64 MiB.");
        }

        if (InlineThreshold < 0 || InlineThreshold > ChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(InlineThreshold), InlineThreshold, "InlineThreshold must be between 0 and ChunkSize.");
        }

        if (MaxLineageArgumentBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLineageArgumentBytes), MaxLineageArgumentBytes, "MaxLineageArgumentBytes must be 0 or more.");
        }

        if (DirectoryShards < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DirectoryShards), DirectoryShards, "DirectoryShards must be at least 1.");
        }

        if (DriverHeartbeatInterval <= TimeSpan.Zero || DriverTimeout < 2 * DriverHeartbeatInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(DriverTimeout), DriverTimeout, "DriverHeartbeatInterval must be positive and DriverTimeout at least twice it.");
        }

        if (DirectoryRebuildWindow < TimeSpan.FromSeconds(1) || DirectoryRebuildWindow > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(DirectoryRebuildWindow), DirectoryRebuildWindow, "DirectoryRebuildWindow must be from 1 s to 5 min.");
        }

        if (LongPollInterval <= TimeSpan.Zero || LongPollInterval > TimeSpan.FromSeconds(25))
        {
            throw new ArgumentOutOfRangeException(nameof(LongPollInterval), LongPollInterval, "LongPollInterval must be positive and at most 25 s.");
        }
    }
}
