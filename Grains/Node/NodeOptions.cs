namespace RayOrleans.Node;

/// <summary>What this node (silo) offers to tasks and actors.</summary>
public sealed class NodeOptions
{
    /// <summary>CPUs offered. Default: <see cref="Environment.ProcessorCount"/>. At least 0.</summary>
    public double? NumCpus { get; set; }

    /// <summary>
    /// GPUs offered, a whole number. Default: the GPUs found on the machine (<c>CUDA_VISIBLE_DEVICES</c> when
    /// set, else <c>nvidia-smi</c>), 0 when none. Set it to declare GPUs discovery cannot see (or to offer fewer).
    /// </summary>
    public double? NumGpus { get; set; }

    /// <summary>
    /// The ids of the GPUs offered, one per GPU, as tasks see them in <c>Ray.GetGpuIds()</c>. Default: the ids
    /// found (the first <see cref="NumGpus"/> of them), or "0", "1", ... when fewer were found than declared.
    /// </summary>
    public List<string>? GpuIds { get; set; }

    /// <summary>Memory offered to tasks and actors, in bytes. Default: 70% of the memory the process may use.</summary>
    public long? Memory { get; set; }

    /// <summary>
    /// Bytes the node's object store may hold. Default: 30% of the memory the process may use, as Ray's
    /// object_store_memory default.
    /// </summary>
    public long? ObjectStoreMemory { get; set; }

    /// <summary>
    /// The folder under which the node keeps its object store's shared-memory segments (a folder per node
    /// process inside it). Default: <c>/dev/shm/rayorleans</c> where <c>/dev/shm</c> exists, else the
    /// temporary folder. Use a memory-backed file system: segments on disk work but read at disk speed.
    /// </summary>
    public string? ObjectStoreDirectory { get; set; }

    /// <summary>
    /// The folder objects spill to when the object store's memory is full (a folder per node process inside
    /// it); they come back when read. Default: <c>rayorleans-spill</c> in the temporary folder.
    /// </summary>
    public string? SpillDirectory { get; set; }

    /// <summary>
    /// The memory monitor's threshold: the fraction of the machine's memory (or of the container's limit) in
    /// use above which this node starts no new tasks and, if it stays above, cancels its newest retryable task
    /// instead of letting the operating system kill the node (Ray's memory monitor). Default 0.95, as Ray's
    /// memory_usage_threshold. Range above 0 to 1; 1 turns the monitor off.
    /// </summary>
    public double MemoryUsageThreshold { get; set; } = 0.95;

    /// <summary>How often the memory monitor reads memory use. Default 250 ms, as Ray's memory_monitor_refresh_ms; zero turns it off.</summary>
    public TimeSpan MemoryMonitorInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How many ended task attempts (tasks and actor calls) the node keeps for the state API (Ray's
    /// task_events_max_num_task_in_gcs), oldest dropped first; running and queued ones are always listed, and
    /// the per-name counts of <c>SummarizeTasksAsync</c> include the dropped. Default 10,000 (a few MiB);
    /// 0 keeps none.
    /// </summary>
    public int MaxTaskEvents { get; set; } = 10_000;

    /// <summary>
    /// Where jobs' shipped code packages are unpacked, a folder per package hash (shared by the node processes of
    /// a host, reused by later jobs with the same code). Default <c>rayorleans-code</c> in the temporary folder.
    /// </summary>
    public string? JobCodeDirectory { get; set; }

    /// <summary>
    /// How long a job's code stays loaded on this node after its last task ended and its last actor died
    /// (then its collectible load context is unloaded; a later task loads it again). Default 5 minutes.
    /// </summary>
    public TimeSpan JobCodeIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Whether Orleans' grain calls carry and join traces (Orleans activity propagation), so traces show Orleans'
    /// own spans under RayOrleans' task spans. Default: on when the standard OpenTelemetry settings configure a
    /// trace exporter, off otherwise (its call filters slow every grain call; RayOrleans' own spans do not need it).
    /// </summary>
    public bool? OrleansTracing { get; set; }

    /// <summary>Labels of the node, key to value (for example <c>{"zone": "a"}</c>), matched by <c>SchedulingStrategy.NodeLabels</c>.</summary>
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Custom resources, name to amount (for example <c>{"accelerator_x": 2}</c>).</summary>
    public Dictionary<string, double> Resources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Folders searched for user assemblies (remote functions and actor classes) that the node process was
    /// not built with. Default: none.
    /// </summary>
    public List<string> CodeDirectories { get; set; } = [];

    /// <summary>The GPU ids this node offers, with the defaults filled in; throws naming a bad value.</summary>
    public IReadOnlyList<string> ResolveGpuIds()
    {
        if (NumGpus is { } declared && (declared < 0 || declared != Math.Floor(declared) || double.IsInfinity(declared)))
        {
            throw new ArgumentOutOfRangeException(nameof(NumGpus), declared, "NumGpus must be a whole number of GPUs, 0 or more.");
        }

        var found = GpuIds ?? (IReadOnlyList<string>)GpuDiscovery.Ids;
        if (GpuIds is not null && NumGpus is { } count && count != GpuIds.Count)
        {
            throw new ArgumentException($"NumGpus is {count} but GpuIds names {GpuIds.Count} GPUs ({string.Join(", ", GpuIds)}); give one id per GPU.", nameof(GpuIds));
        }

        if (found.Distinct(StringComparer.Ordinal).Count() != found.Count)
        {
            throw new ArgumentException($"GPU ids must be distinct: {string.Join(", ", found)}.", nameof(GpuIds));
        }

        if (NumGpus is not { } wanted)
        {
            return found;
        }

        var n = (int)wanted;
        return found.Count >= n
            ? found.Take(n).ToArray()
            : Enumerable.Range(0, n).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    internal static long MachineMemory => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The resources this node offers, with defaults filled in; throws naming a bad value.</summary>
    public Messages.ResourceSet ToResourceSet()
    {
        var amounts = new Dictionary<string, double>(Resources, StringComparer.Ordinal);
        foreach (var reserved in new[] { Messages.ResourceSet.Cpu, Messages.ResourceSet.Gpu, Messages.ResourceSet.Memory })
        {
            if (amounts.ContainsKey(reserved))
            {
                throw new ArgumentException($"'{reserved}' is set by its own option, not in Resources.", nameof(Resources));
            }
        }

        var cpus = NumCpus ?? Environment.ProcessorCount;
        if (cpus < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NumCpus), cpus, "NumCpus must not be negative.");
        }

        amounts[Messages.ResourceSet.Cpu] = cpus;
        amounts[Messages.ResourceSet.Gpu] = ResolveGpuIds().Count;
        amounts[Messages.ResourceSet.Memory] = Memory ?? (long)(MachineMemory * 0.7);
        return new Messages.ResourceSet(amounts);
    }
}
