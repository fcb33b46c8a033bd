using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using RayOrleans.Functions;

namespace RayOrleans.Node;

/// <summary>
/// One job's shipped code on this node: a collectible <see cref="AssemblyLoadContext"/> over the folder its
/// package was unpacked into. Assemblies the node process has on its own list (the framework, Orleans,
/// RayOrleans: its trusted platform assemblies) come from the default context, so <c>ObjectRef</c>,
/// <c>Ray</c> and the framework's types are the same types on both sides; every other assembly the job
/// names is loaded from its own folder, so two jobs may bring different builds of the same assembly. The
/// invokers it makes are cached here, and go with it when it is unloaded.
/// </summary>
internal sealed class JobLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> HostAssemblies = ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(Path.GetFileNameWithoutExtension)
        .ToHashSet(StringComparer.OrdinalIgnoreCase)!;

    private readonly ConcurrentDictionary<string, FunctionInvoker> _invokers = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _users;
    private bool _unloading;

    public JobLoadContext(string jobId, string hash, string folder)
        : base($"job {jobId} (code {hash[..12]})", isCollectible: true)
    {
        JobId = jobId;
        Hash = hash;
        Folder = folder;
        LastUsed = Environment.TickCount64;
    }

    public string JobId { get; }

    public string Hash { get; }

    public string Folder { get; }

    /// <summary>Its job ended: it goes as soon as nothing uses it.</summary>
    public volatile bool Ended;

    /// <summary>When a task or actor last let go of it (<see cref="Environment.TickCount64"/>).</summary>
    public long LastUsed { get; private set; }

    /// <summary>Tasks running and actors alive in this code now.</summary>
    public int Users
    {
        get
        {
            lock (_gate)
            {
                return _users;
            }
        }
    }

    /// <summary>The invoker of a function, method or constructor of this job's code.</summary>
    public FunctionInvoker Invoker(string key) => _invokers.GetOrAdd(key, static (k, context) => FunctionInvoker.Create(k, context), this);

    /// <summary>A task or actor starts using this code; false when it is being unloaded (load it again).</summary>
    public bool TryAcquire()
    {
        lock (_gate)
        {
            if (_unloading)
            {
                return false;
            }

            _users++;
            return true;
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _users--;
            LastUsed = Environment.TickCount64;
        }
    }

    /// <summary>Unloads it when nothing uses it and it has been idle since <paramref name="idleSince"/>; true when it did.</summary>
    public bool TryUnload(long idleSince)
    {
        lock (_gate)
        {
            if (_users > 0 || LastUsed > idleSince || _unloading)
            {
                return false;
            }

            _unloading = true;
        }

        _invokers.Clear();
        Unload();
        Serialization.JsonMetadataCaches.Clear(); // System.Text.Json's process-wide accessor cache holds the job's types otherwise
        return true;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { } name || HostAssemblies.Contains(name))
        {
            return null; // the node's own copy, shared with the runtime
        }

        var path = Path.Combine(Folder, name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(Folder, unmanagedDllName);
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
