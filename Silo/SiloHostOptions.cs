using System.Net;
using RayOrleans.Node;
using RayOrleans.Silo.Configuration;
using RayOrleans.Silo.Jobs;
using StackExchange.Redis;

namespace RayOrleans.Silo;

/// <summary>
/// How a RayOrleans node host is set up: the cluster it joins, the endpoints it opens and the resources it
/// offers. Bound from the <c>Ray</c> configuration section, which appsettings.json, <c>RAY_*</c> environment
/// variables and command-line switches fill, later ones winning; <see cref="SiloHostSwitches"/> names each
/// property's switch (<c>--silo-port</c>) and variable (<c>RAY_SILO_PORT</c>).
/// </summary>
internal sealed class SiloHostOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Ray";

    /// <summary>Orleans cluster id: silos and drivers with the same id form one cluster. Default "rayorleans", as drivers assume.</summary>
    public string ClusterId { get; set; } = "rayorleans";

    /// <summary>Orleans service id. Default "rayorleans", as drivers assume.</summary>
    public string ServiceId { get; set; } = "rayorleans";

    /// <summary>Port silos talk to each other on. Default 11111 (Orleans' default). Range 1 to 65535.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port drivers (Orleans clients) connect to. Default 30000 (Orleans' default). Range 1 to 65535.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Port of the HTTP endpoint (<c>/healthz</c>, <c>/api/nodes</c>, the job API), always on 127.0.0.1 because it has no
    /// authentication. Default 8265, the port of Ray's dashboard. Range 1 to 65535.
    /// </summary>
    public int HttpPort { get; set; } = 8265;

    /// <summary>
    /// How silos find each other. Default <see cref="ClusteringProvider.Localhost"/>: in-memory membership of
    /// this one silo. <see cref="ClusteringProvider.Redis"/> keeps membership in <see cref="Redis"/>, so
    /// any number of silos and drivers can join.
    /// </summary>
    public ClusteringProvider Clustering { get; set; } = ClusteringProvider.Localhost;

    /// <summary>
    /// StackExchange.Redis connection string used with <see cref="ClusteringProvider.Redis"/>; a leading
    /// <c>redis://</c>, as drivers write the address, is accepted. Default "127.0.0.1:6379".
    /// </summary>
    public string Redis { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// With <see cref="ClusteringProvider.Localhost"/>: the silo endpoint (<c>IP:port</c>) of the cluster's
    /// primary silo, whose in-memory membership table this silo joins (what <c>rayo start --address</c> passes a
    /// worker). Default: none, so this silo is the primary of its own cluster. Not valid with Redis membership,
    /// where every silo is equal.
    /// </summary>
    public string? PrimarySilo { get; set; }

    /// <summary>
    /// IP address other silos and drivers reach this silo at; it is published in the membership table.
    /// Default 127.0.0.1, so a node is reachable from this machine only until told otherwise.
    /// </summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";

    /// <summary>
    /// IP address the silo and gateway listeners bind to. Default: <see cref="AdvertisedIp"/>. Set 0.0.0.0
    /// where the advertised address is not a local one (a container behind NAT).
    /// </summary>
    public string? ListenIp { get; set; }

    /// <summary>
    /// Address the HTTP endpoint (dashboard, state and job API, /metrics, /healthz) binds to. Default 127.0.0.1:
    /// the cluster is closed by default; in a Kubernetes pod set 0.0.0.0 so the kubelet's probes reach /healthz.
    /// </summary>
    public string HttpListenIp { get; set; } = "127.0.0.1";

    /// <summary>
    /// Orleans' Kubernetes hosting (<c>UseKubernetesHosting</c>: cluster and service ids, the pod's IP and name from
    /// the pod's environment, and silos whose pods are gone are declared dead): <c>true</c>, <c>false</c>, or
    /// <c>auto</c> (default), which turns it on when the process runs in a pod (<c>KUBERNETES_SERVICE_HOST</c> and
    /// <c>POD_NAME</c> are set).
    /// </summary>
    public string Kubernetes { get; set; } = "auto";

    /// <summary>The parsed <see cref="HttpListenIp"/>; valid after <see cref="Validate"/>.</summary>
    public IPAddress HttpListenAddress => IPAddress.Parse(HttpListenIp);

    /// <summary>Whether the silo uses Orleans' Kubernetes hosting (see <see cref="Kubernetes"/>); valid after <see cref="Validate"/>.</summary>
    public bool UsesKubernetesHosting => Kubernetes.Trim().ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")) &&
             !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POD_NAME")),
    };

    /// <summary>CPUs the node offers. Default: the machine's processor count (as <see cref="NodeOptions.NumCpus"/>). At least 0.</summary>
    public double? NumCpus { get; set; }

    /// <summary>GPUs the node offers, a whole number. Default: the GPUs found (as <see cref="NodeOptions.NumGpus"/>).</summary>
    public double? NumGpus { get; set; }

    /// <summary>Memory (bytes) the node offers to tasks and actors. Default: 70% of the memory the process may use. At least 0.</summary>
    public long? Memory { get; set; }

    /// <summary>Bytes the node's object store may hold. Default: 30% of the memory the process may use. More than 0.</summary>
    public long? ObjectStoreMemory { get; set; }

    /// <summary>
    /// The cluster certificate (a PKCS#12 .pfx file with its private key): when set, every connection of this
    /// silo runs mutual TLS pinned to it, so only processes holding it can join or connect. Its password, if
    /// any, comes from the RAYORLEANS_TLS_PASSWORD environment variable (never the command line). Default none.
    /// </summary>
    public string? TlsCertificate { get; set; }

    /// <summary>
    /// The memory monitor's threshold: the fraction of the machine's (or container's) memory in use above which
    /// the node starts no new tasks and cancels its newest retryable task. Default 0.95; 1 turns it off.
    /// </summary>
    public double MemoryUsageThreshold { get; set; } = 0.95;

    /// <summary>
    /// How many ended task attempts the node keeps for the state API and the dashboard (oldest dropped first; the
    /// per-name counts keep counting them). Default 10,000.
    /// </summary>
    public int MaxTaskEvents { get; set; } = 10_000;

    /// <summary>
    /// Folder for the object store's shared-memory segments (a folder per node process inside it). Default:
    /// <c>/dev/shm/rayorleans</c>, else the temporary folder.
    /// </summary>
    public string? ObjectStoreDir { get; set; }

    /// <summary>
    /// Custom resources, name to amount. On the command line and in <c>RAY_RESOURCES</c> a JSON object
    /// (<c>{"accelerator_x": 2}</c>); in appsettings.json an object. Default none. CPU, GPU and memory
    /// have their own options.
    /// </summary>
    public Dictionary<string, double> Resources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Labels of the node, key to value, for <c>SchedulingStrategy.NodeLabels</c>. On the command line and in
    /// <c>RAY_LABELS</c> a JSON object (<c>{"zone": "a"}</c>); in appsettings.json an object. Default none.
    /// </summary>
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether this node reads other same-host nodes' large objects through their shared-memory segments
    /// (true) or pulls them in chunks over Orleans as from another host (false). Default true.
    /// </summary>
    public bool SameHostShm { get; set; } = true;

    /// <summary>
    /// Whether the node hosts the Orleans Dashboard (grain types, activations, method calls, silo counters)
    /// under <c>/orleans/</c> of its HTTP endpoint, beside the RayOrleans dashboard at <c>/dashboard/</c>. Its
    /// services run on every silo that has it on and it asks every silo for their statistics, so the silos of
    /// one cluster should agree. Its call profiler runs only while someone views it. Default true.
    /// </summary>
    public bool OrleansDashboard { get; set; } = true;

    /// <summary>
    /// A JSON file of autoscaler options (<c>AutoscalerOptions</c>: provider, node types, idle timeout, ...): when set,
    /// this node runs the autoscaler, which starts and stops worker nodes for the cluster's demands. Meant for the
    /// head, one per cluster. Default: none (no autoscaler).
    /// </summary>
    public string? AutoscalerConfig { get; set; }

    /// <summary>Folders, separated by ';', searched for user assemblies (tasks and actors). Default: none.</summary>
    public string? CodeDir { get; set; }

    /// <summary>
    /// Where drivers' shipped code packages are unpacked, a folder per package hash (<see cref="NodeOptions.JobCodeDirectory"/>;
    /// node processes of one host share it by default). Default: <c>$TMPDIR/rayorleans-code</c>.
    /// </summary>
    public string? JobCodeDir { get; set; }

    /// <summary>
    /// Folder of submitted jobs' packages and driver logs. Default: <c>$TMPDIR/rayorleans-jobs/{cluster id}-{http port}</c>
    /// (<see cref="JobOptions.DefaultJobsDirectory"/>).
    /// </summary>
    public string? JobsDir { get; set; }

    /// <summary>Seconds a stopped job's driver gets between SIGTERM and SIGKILL. Default 5. At least 0.</summary>
    public double JobStopGraceSeconds { get; set; } = 5;

    /// <summary>Largest job package (zip) accepted, in bytes. Default 512 MiB. More than 0.</summary>
    public long MaxPackageSize { get; set; } = new JobOptions().MaxPackageBytes;

    /// <summary>Largest total size of a job package's files once unpacked, in bytes. Default 2 GiB. More than 0.</summary>
    public long MaxUnpackedPackageSize { get; set; } = new JobOptions().MaxUnpackedPackageBytes;

    /// <summary>How many finished jobs the head remembers, with their logs. Default 1000. At least 1.</summary>
    public int MaxFinishedJobs { get; set; } = new JobOptions().MaxFinishedJobs;

    /// <summary>The folders of <see cref="CodeDir"/>.</summary>
    public IReadOnlyList<string> CodeDirectories =>
        (CodeDir ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The parsed <see cref="PrimarySilo"/>, or null when this silo is its own primary; valid after <see cref="Validate"/>.</summary>
    public IPEndPoint? PrimarySiloEndpoint => string.IsNullOrWhiteSpace(PrimarySilo) ? null : IPEndPoint.Parse(PrimarySilo.Trim());

    /// <summary>The parsed <see cref="AdvertisedIp"/>; valid after <see cref="Validate"/>.</summary>
    public IPAddress AdvertisedAddress => IPAddress.Parse(AdvertisedIp);

    /// <summary>The parsed <see cref="ListenIp"/>, or <see cref="AdvertisedAddress"/> when unset; valid after <see cref="Validate"/>.</summary>
    public IPAddress ListenAddress => string.IsNullOrWhiteSpace(ListenIp) ? AdvertisedAddress : IPAddress.Parse(ListenIp);

    /// <summary>The node's resources as the node runtime takes them.</summary>
    public NodeOptions ToNodeOptions()
    {
        var node = new NodeOptions
        {
            NumCpus = NumCpus, NumGpus = NumGpus, Memory = Memory, ObjectStoreMemory = ObjectStoreMemory, ObjectStoreDirectory = ObjectStoreDir, CodeDirectories = [.. CodeDirectories],
            MemoryUsageThreshold = MemoryUsageThreshold, MaxTaskEvents = MaxTaskEvents,
            JobCodeDirectory = string.IsNullOrWhiteSpace(JobCodeDir) ? null : JobCodeDir,
        };
        foreach (var (name, amount) in Resources)
        {
            node.Resources[name] = amount;
        }

        foreach (var (key, value) in Labels)
        {
            node.Labels[key] = value;
        }

        // In a pod the autoscaler knows this node by its pod's name (KubernetesProvider lists the pool's pods).
        if (Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod)
        {
            node.Labels.TryAdd(Autoscaler.AutoscalerLabels.Instance, pod);
        }

        return node;
    }

    /// <summary>
    /// The address a driver passes to <c>Ray.InitAsync</c> to join this node's cluster: <c>redis://</c> and the
    /// Redis connection string with Redis membership, else this node's gateway.
    /// </summary>
    public string DriverAddress => Clustering == ClusteringProvider.Redis
        ? "redis://" + (Redis.Trim().StartsWith("redis://", StringComparison.OrdinalIgnoreCase) ? Redis.Trim()["redis://".Length..] : Redis.Trim())
        : new IPEndPoint(AdvertisedAddress, GatewayPort).ToString();

    /// <summary>How the node runs submitted jobs; valid after <see cref="Validate"/>.</summary>
    public JobOptions ToJobOptions()
    {
        var jobs = new JobOptions
        {
            JobsDirectory = string.IsNullOrWhiteSpace(JobsDir) ? JobOptions.DefaultJobsDirectory(ClusterId, HttpPort) : JobsDir,
            StopGracePeriod = TimeSpan.FromSeconds(JobStopGraceSeconds),
            MaxPackageBytes = MaxPackageSize,
            MaxUnpackedPackageBytes = MaxUnpackedPackageSize,
            MaxFinishedJobs = MaxFinishedJobs,
        };
        jobs.DriverEnvironment["RAY_ADDRESS"] = DriverAddress;
        jobs.DriverEnvironment["RAYORLEANS_CLUSTER_ID"] = ClusterId;
        jobs.DriverEnvironment["RAYORLEANS_SERVICE_ID"] = ServiceId;
        return jobs;
    }

    /// <summary>The autoscaler options in <see cref="AutoscalerConfig"/>, or null without one; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public Autoscaler.AutoscalerOptions? ToAutoscalerOptions() =>
        string.IsNullOrWhiteSpace(AutoscalerConfig) ? null : Autoscaler.AutoscalerConfigFile.Load(AutoscalerConfig);

    /// <summary>
    /// How the local provider starts workers of this node's cluster: the switches that make a silo join it (cluster
    /// and service ids, membership, addresses, TLS) and share this node's object-store folder and code, as
    /// <c>rayo start --address</c> would give them; ports, resources and labels the provider adds per worker.
    /// </summary>
    public Autoscaler.Providers.LocalProcessOptions ToLocalProcessOptions(string siloPath, string dotnetPath)
    {
        var arguments = new List<string> { "--cluster-id", ClusterId, "--service-id", ServiceId, "--advertised-ip", AdvertisedIp };
        if (Clustering == ClusteringProvider.Redis)
        {
            arguments.AddRange(["--clustering", "redis", "--redis", Redis]);
        }
        else
        {
            // A worker of the in-memory membership joins through its primary: this node, or this node's own primary.
            arguments.AddRange(["--clustering", "localhost", "--primary-silo", (PrimarySiloEndpoint ?? new IPEndPoint(AdvertisedAddress, SiloPort)).ToString()]);
        }

        if (!string.IsNullOrWhiteSpace(ListenIp))
        {
            arguments.AddRange(["--listen-ip", ListenIp]);
        }

        if (!string.IsNullOrWhiteSpace(ObjectStoreDir))
        {
            arguments.AddRange(["--object-store-dir", Path.GetFullPath(ObjectStoreDir)]);
        }

        if (CodeDirectories.Count > 0)
        {
            arguments.AddRange(["--code-dir", string.Join(';', CodeDirectories.Select(Path.GetFullPath))]);
        }

        if (!string.IsNullOrWhiteSpace(TlsCertificate))
        {
            arguments.AddRange(["--tls-certificate", Path.GetFullPath(TlsCertificate)]);
        }

        arguments.AddRange([
            "--orleans-dashboard", OrleansDashboard ? "true" : "false", "--same-host-shm", SameHostShm ? "true" : "false",
            "--memory-usage-threshold", MemoryUsageThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        return new Autoscaler.Providers.LocalProcessOptions
        {
            SiloPath = siloPath,
            DotnetPath = dotnetPath,
            WorkerArguments = arguments,
            LogDirectory = Path.Combine(Path.GetTempPath(), "rayorleans-autoscaler", $"{ClusterId}-{HttpPort}"),
        };
    }

    /// <summary>The parsed <see cref="Redis"/> connection string; throws naming <c>--redis</c> when it does not parse.</summary>
    public ConfigurationOptions ToRedisConfiguration()
    {
        var text = Redis.Trim();
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["redis://".Length..];
        }

        try
        {
            var configuration = ConfigurationOptions.Parse(text);
            if (configuration.EndPoints.Count == 0)
            {
                throw InvalidSiloOptionException.For(nameof(Redis), $"'{Redis}' names no Redis server; expected host:port.");
            }

            return configuration;
        }
        catch (ArgumentException e)
        {
            throw InvalidSiloOptionException.For(nameof(Redis), $"'{Redis}' is not a Redis connection string: {e.Message}");
        }
    }

    /// <summary>Checks every value; throws <see cref="InvalidSiloOptionException"/> naming the first bad one's switch.</summary>
    public void Validate()
    {
        RequireText(nameof(ClusterId), ClusterId);
        foreach (var directory in CodeDirectories)
        {
            if (!Directory.Exists(directory))
            {
                throw InvalidSiloOptionException.For(nameof(CodeDir), $"'{directory}' is not a folder.");
            }
        }

        RequireText(nameof(ServiceId), ServiceId);
        RequirePort(nameof(SiloPort), SiloPort);
        RequirePort(nameof(GatewayPort), GatewayPort);
        RequirePort(nameof(HttpPort), HttpPort);
        if (SiloPort == GatewayPort || SiloPort == HttpPort || GatewayPort == HttpPort)
        {
            throw new InvalidSiloOptionException(
                $"--silo-port ({SiloPort}), --gateway-port ({GatewayPort}) and --http-port ({HttpPort}) must differ.");
        }

        if (!Enum.IsDefined(Clustering))
        {
            throw InvalidSiloOptionException.For(nameof(Clustering), $"'{Clustering}' is not a clustering provider; expected localhost or redis.");
        }

        if (Clustering == ClusteringProvider.Redis)
        {
            ToRedisConfiguration();
        }

        if (!string.IsNullOrWhiteSpace(PrimarySilo))
        {
            if (Clustering != ClusteringProvider.Localhost)
            {
                throw InvalidSiloOptionException.For(nameof(PrimarySilo), "only --clustering localhost has a primary silo; with Redis membership every silo joins through Redis.");
            }

            // An IP and a port: the primary's advertised silo endpoint, as its start line prints it.
            if (!IPEndPoint.TryParse(PrimarySilo.Trim(), out var primary) || primary.Port == 0 || primary.Address.Equals(IPAddress.Any) || primary.Address.Equals(IPAddress.IPv6Any))
            {
                throw InvalidSiloOptionException.For(nameof(PrimarySilo), $"'{PrimarySilo}' is not a silo endpoint; expected IP:port, for example 127.0.0.1:11111.");
            }
        }

        RequireAddress(nameof(AdvertisedIp), AdvertisedIp);
        if (IPAddress.Parse(AdvertisedIp) is var advertised && (advertised.Equals(IPAddress.Any) || advertised.Equals(IPAddress.IPv6Any)))
        {
            throw InvalidSiloOptionException.For(nameof(AdvertisedIp), $"'{AdvertisedIp}' cannot be advertised; give the address others reach this machine at (bind to all addresses with --listen-ip 0.0.0.0).");
        }

        if (!string.IsNullOrWhiteSpace(ListenIp))
        {
            RequireAddress(nameof(ListenIp), ListenIp);
        }

        RequireAddress(nameof(HttpListenIp), HttpListenIp);
        if (Kubernetes.Trim().ToLowerInvariant() is not ("auto" or "true" or "false"))
        {
            throw InvalidSiloOptionException.For(nameof(Kubernetes), $"'{Kubernetes}' is not auto, true or false.");
        }

        if (NumCpus is { } cpus)
        {
            RequireAmount(nameof(NumCpus), cpus);
        }

        if (NumGpus is { } gpus)
        {
            RequireAmount(nameof(NumGpus), gpus);
            if (gpus != Math.Floor(gpus))
            {
                throw InvalidSiloOptionException.For(nameof(NumGpus), $"{gpus} is not a whole number of GPUs.");
            }
        }
        if (Memory < 0)
        {
            throw InvalidSiloOptionException.For(nameof(Memory), $"{Memory} is negative; expected a number of bytes.");
        }

        if (MaxTaskEvents is < 0 or > 10_000_000)
        {
            throw InvalidSiloOptionException.For(nameof(MaxTaskEvents), $"{MaxTaskEvents} is not a count from 0 to 10,000,000.");
        }

        if (!(MemoryUsageThreshold > 0 && MemoryUsageThreshold <= 1))
        {
            throw InvalidSiloOptionException.For(nameof(MemoryUsageThreshold), $"{MemoryUsageThreshold} is not a fraction above 0 and at most 1.");
        }

        if (ObjectStoreMemory <= 0)
        {
            throw InvalidSiloOptionException.For(nameof(ObjectStoreMemory), $"{ObjectStoreMemory} is not a positive number of bytes.");
        }

        foreach (var (name, amount) in Resources)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw InvalidSiloOptionException.For(nameof(Resources), "a resource name is empty.");
            }

            if (name is Messages.ResourceSet.Cpu or Messages.ResourceSet.Gpu or Messages.ResourceSet.Memory)
            {
                throw InvalidSiloOptionException.For(nameof(Resources), $"'{name}' has its own option (--num-cpus, --num-gpus, --memory).");
            }

            if (!double.IsFinite(amount) || amount < 0)
            {
                throw InvalidSiloOptionException.For(nameof(Resources), $"'{name}' is {amount}; expected a finite amount of at least 0.");
            }
        }

        if (!double.IsFinite(JobStopGraceSeconds) || JobStopGraceSeconds < 0 || JobStopGraceSeconds > 3600)
        {
            throw InvalidSiloOptionException.For(nameof(JobStopGraceSeconds), $"{JobStopGraceSeconds} is not a number of seconds from 0 to 3600.");
        }

        if (MaxPackageSize <= 0)
        {
            throw InvalidSiloOptionException.For(nameof(MaxPackageSize), $"{MaxPackageSize} is not a positive number of bytes.");
        }

        if (MaxUnpackedPackageSize <= 0)
        {
            throw InvalidSiloOptionException.For(nameof(MaxUnpackedPackageSize), $"{MaxUnpackedPackageSize} is not a positive number of bytes.");
        }

        if (MaxFinishedJobs < 1)
        {
            throw InvalidSiloOptionException.For(nameof(MaxFinishedJobs), $"{MaxFinishedJobs} is not at least 1.");
        }

        if (!string.IsNullOrWhiteSpace(AutoscalerConfig))
        {
            try
            {
                ToAutoscalerOptions();
            }
            catch (ArgumentException e)
            {
                throw InvalidSiloOptionException.For(nameof(AutoscalerConfig), e.Message);
            }
        }

        if (JobsDir is { } jobsDir && !string.IsNullOrWhiteSpace(jobsDir) && File.Exists(jobsDir))
        {
            throw InvalidSiloOptionException.For(nameof(JobsDir), $"'{jobsDir}' is a file; expected a folder (it is created if missing).");
        }

        try
        {
            // The node runtime's own check, so a rule added there is never silently skipped here.
            ToNodeOptions().ToResourceSet();
        }
        catch (ArgumentException e)
        {
            throw new InvalidSiloOptionException($"the node's resources are invalid: {e.Message}", e);
        }
    }

    private static void RequireText(string property, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw InvalidSiloOptionException.For(property, "must not be empty.");
        }
    }

    private static void RequirePort(string property, int port)
    {
        if (port is < 1 or > 65535)
        {
            throw InvalidSiloOptionException.For(property, $"{port} is not a TCP port; expected 1 to 65535.");
        }
    }

    private static void RequireAddress(string property, string? value)
    {
        // TryParse also takes legacy forms ("1.2.3" is 1.2.0.3), which are surely typos here.
        if (!IPAddress.TryParse(value, out var address)
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && value!.Trim().Split('.').Length != 4))
        {
            throw InvalidSiloOptionException.For(property, $"'{value}' is not an IP address (for example 10.0.0.5).");
        }
    }

    private static void RequireAmount(string property, double amount)
    {
        if (!double.IsFinite(amount) || amount < 0)
        {
            throw InvalidSiloOptionException.For(property, $"{amount} is not a finite amount of at least 0.");
        }
    }
}

/// <summary>Where a node keeps cluster membership.</summary>
internal enum ClusteringProvider
{
    /// <summary>In-memory membership of this one silo: a single-node cluster for development.</summary>
    Localhost,

    /// <summary>Membership in Redis (Microsoft.Orleans.Clustering.Redis): silos on any machines join one cluster.</summary>
    Redis,
}
