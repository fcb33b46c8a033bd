using RayOrleans.Runtime;

namespace RayOrleans;

/// <summary>Options of <c>Ray.InitAsync</c>, as Ray's <c>ray.init</c> arguments.</summary>
public sealed record RayInitOptions
{
    /// <summary>CPUs of the embedded node. Default: the machine's processor count.</summary>
    public double? NumCpus { get; init; }

    /// <summary>GPUs of the embedded node, a whole number. Default: the GPUs found (CUDA_VISIBLE_DEVICES, else nvidia-smi), else 0.</summary>
    public double? NumGpus { get; init; }

    /// <summary>Memory (bytes) the embedded node offers to tasks. Default 70% of the process's memory.</summary>
    public long? Memory { get; init; }

    /// <summary>Bytes the embedded node's object store may hold. Default 30% of the process's memory.</summary>
    public long? ObjectStoreMemory { get; init; }

    /// <summary>Folder for the embedded node's shared-memory segments. Default <c>/dev/shm/rayorleans</c>.</summary>
    public string? ObjectStoreDirectory { get; init; }

    /// <summary>Custom resources of the embedded node.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>Orleans cluster id. Default "rayorleans" (embedded: a fresh id per call).</summary>
    public string? ClusterId { get; init; }

    /// <summary>Orleans service id. Default "rayorleans".</summary>
    public string ServiceId { get; init; } = "rayorleans";

    /// <summary>Object-layer tuning shared with the nodes.</summary>
    public RuntimeOptions Runtime { get; init; } = new();

    /// <summary>
    /// The cluster certificate (a PKCS#12 certificate with its private key; see <c>ClusterTls</c>) of a cluster
    /// closed with mutual TLS: the driver's connections present it and accept only silos that present it too.
    /// For the embedded cluster, its silo requires it of every client. Default none (plain connections).
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClusterCertificate { get; init; }

    /// <summary>
    /// The driver's job id, carried by all the work it submits (the state API filters by it). Default: the
    /// <c>RAYORLEANS_JOB_ID</c> environment variable (set by job submission), else a fresh 8-hex-digit id.
    /// </summary>
    public string? JobId { get; init; }

    /// <summary>
    /// Whether <c>Ray.InitAsync()</c> without an address connects to the cluster named by the <c>RAY_ADDRESS</c>
    /// environment variable when it is set (as Ray's <c>ray.init()</c> does, and as a submitted job's driver
    /// relies on) instead of starting an embedded cluster. Default true.
    /// </summary>
    public bool UseRayAddressVariable { get; init; } = true;

    /// <summary>
    /// Whether a driver connecting to a cluster ships its own assemblies (its application folder's .dll files,
    /// less RayOrleans and what it references) for the nodes to run its tasks and actors from, in a load context
    /// of the job's own (Ray's runtime_env working_dir). Default true. Turn it off when every node already has
    /// the code (<c>--code-dir</c>): then tasks run from the nodes' copies.
    /// </summary>
    public bool ShipCode { get; init; } = true;

    /// <summary>
    /// Whether what this driver's tasks and actors write (console, <c>Ray.GetLogger</c>) comes back to it, as Ray's
    /// log_to_driver: each line prefixed with the task or actor method and its node. Default true.
    /// </summary>
    public bool LogToDriver { get; init; } = true;

    /// <summary>Where those lines go. Default: printed to this process's standard output (error lines to standard error).</summary>
    public Action<Messages.LogLine>? OnTaskLog { get; init; }

    /// <summary>
    /// Whether the driver's Orleans grain calls carry its trace context (Orleans activity propagation), for traces
    /// that show Orleans' spans too; RayOrleans' own task spans join the application's traces either way. Default:
    /// on when the standard OpenTelemetry settings configure a trace exporter. The embedded cluster's node takes it too.
    /// </summary>
    public bool? OrleansTracing { get; init; }

    /// <summary>How long connecting to a cluster waits for its first node. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
