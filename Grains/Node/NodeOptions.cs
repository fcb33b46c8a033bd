namespace RayOrleans.Node;

/// <summary>What this node (silo) offers to tasks and actors.</summary>
public sealed class NodeOptions
{
    /// <summary>CPUs offered. Default: <see cref="Environment.ProcessorCount"/>. At least 0.</summary>
    public double? NumCpus { get; set; }

    /// <summary>GPUs offered. Default 0 (GPU discovery arrives with the scheduler issue).</summary>
    public double NumGpus { get; set; }

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

    /// <summary>Custom resources, name to amount (for example <c>{"accelerator_x": 2}</c>).</summary>
    public Dictionary<string, double> Resources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Folders searched for user assemblies (remote functions and actor classes) that the node process was
    /// not built with. Default: none.
    /// </summary>
    public List<string> CodeDirectories { get; set; } = [];

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
        if (cpus < 0 || NumGpus < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NumCpus), "NumCpus and NumGpus must not be negative.");
        }

        amounts[Messages.ResourceSet.Cpu] = cpus;
        amounts[Messages.ResourceSet.Gpu] = NumGpus;
        amounts[Messages.ResourceSet.Memory] = Memory ?? (long)(MachineMemory * 0.7);
        return new Messages.ResourceSet(amounts);
    }
}
