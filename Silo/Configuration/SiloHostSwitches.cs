using System.Collections;
using System.Text;

namespace RayOrleans.Silo.Configuration;

/// <summary>One option of the node host: its command-line switch and the <see cref="SiloHostOptions"/> property it sets.</summary>
/// <param name="Name">The switch, <c>--kebab-case</c>.</param>
/// <param name="Property">The <see cref="SiloHostOptions"/> property.</param>
/// <param name="Value">What the value is, for the usage text.</param>
/// <param name="Help">One line of help, ending with the default.</param>
internal sealed record SiloHostSwitch(string Name, string Property, string Value, string Help)
{
    /// <summary>The configuration key the switch sets (<c>Ray:SiloPort</c>).</summary>
    public string ConfigurationKey => $"{SiloHostOptions.SectionName}:{Property}";

    /// <summary>The environment variable that sets the same key (<c>RAY_SILO_PORT</c> for <c>--silo-port</c>).</summary>
    public string EnvironmentVariable => "RAY_" + Name[2..].Replace('-', '_').ToUpperInvariant();
}

/// <summary>
/// The node host's switches, one table from which the command-line mappings, the <c>RAY_*</c> environment
/// variables, the usage text and the error messages all come, so they cannot disagree.
/// </summary>
/// <remarks>
/// Plain configuration binding (rather than a command-line parser) keeps one path for every source:
/// appsettings.json, environment and command line all land in the <c>Ray</c> section and bind to
/// <see cref="SiloHostOptions"/>. What a parser would add, rejecting unknown switches and printing usage,
/// is the few lines of <see cref="CheckArguments"/> and <see cref="Usage"/>.
/// </remarks>
internal static class SiloHostSwitches
{
    /// <summary>Every switch, in usage order.</summary>
    public static readonly IReadOnlyList<SiloHostSwitch> All =
    [
        new("--cluster-id", nameof(SiloHostOptions.ClusterId), "ID", "Orleans cluster id; silos and drivers with the same id form one cluster. Default: rayorleans."),
        new("--service-id", nameof(SiloHostOptions.ServiceId), "ID", "Orleans service id. Default: rayorleans."),
        new("--silo-port", nameof(SiloHostOptions.SiloPort), "PORT", "Port silos talk to each other on. Default: 11111."),
        new("--gateway-port", nameof(SiloHostOptions.GatewayPort), "PORT", "Port drivers connect to. Default: 30000."),
        new("--http-port", nameof(SiloHostOptions.HttpPort), "PORT", "Port of the dashboard (/dashboard/), /api/* (the job API on the head), /metrics and /healthz. Default: 8265."),
        new("--http-listen-ip", nameof(SiloHostOptions.HttpListenIp), "IP", "Address the HTTP endpoint binds to (0.0.0.0 in a Kubernetes pod, for the kubelet's probes). Default: 127.0.0.1."),
        new("--clustering", nameof(SiloHostOptions.Clustering), "localhost|redis", "Membership: this one silo in memory, or Redis for a multi-node cluster. Default: localhost."),
        new("--redis", nameof(SiloHostOptions.Redis), "CONNECTION", "Redis connection string for --clustering redis (host:port[,options]). Default: 127.0.0.1:6379."),
        new("--primary-silo", nameof(SiloHostOptions.PrimarySilo), "IP:PORT", "With --clustering localhost: the primary (head) silo's endpoint to join. Default: none (this silo is the primary)."),
        new("--advertised-ip", nameof(SiloHostOptions.AdvertisedIp), "IP", "Address other silos and drivers reach this silo at. Default: 127.0.0.1."),
        new("--listen-ip", nameof(SiloHostOptions.ListenIp), "IP", "Address the silo and gateway listeners bind to. Default: the advertised address."),
        new("--kubernetes", nameof(SiloHostOptions.Kubernetes), "auto|true|false", "Orleans' Kubernetes hosting (ids, pod IP and name from the pod; silos of deleted pods declared dead). Default: auto (on inside a pod)."),
        new("--num-cpus", nameof(SiloHostOptions.NumCpus), "N", "CPUs the node offers. Default: the machine's processor count."),
        new("--num-gpus", nameof(SiloHostOptions.NumGpus), "N", "GPUs the node offers. Default: those CUDA_VISIBLE_DEVICES or nvidia-smi show, else 0."),
        new("--memory", nameof(SiloHostOptions.Memory), "BYTES", "Memory the node offers to tasks and actors. Default: 70% of the process's memory."),
        new("--object-store-memory", nameof(SiloHostOptions.ObjectStoreMemory), "BYTES", "Bytes the node's object store may hold. Default: 30% of the process's memory."),
        new("--tls-certificate", nameof(SiloHostOptions.TlsCertificate), "PFX", "Cluster certificate: mutual TLS on every connection, only its holders may join or connect (password: RAYORLEANS_TLS_PASSWORD). Default: none."),
        new("--max-task-events", nameof(SiloHostOptions.MaxTaskEvents), "COUNT", "Ended task attempts the node keeps for the state API and dashboard (oldest dropped; counts keep them). Default: 10000."),
        new("--memory-usage-threshold", nameof(SiloHostOptions.MemoryUsageThreshold), "FRACTION", "Memory in use above which the node holds new tasks and cancels its newest retryable one. Default: 0.95; 1 turns it off."),
        new("--object-store-dir", nameof(SiloHostOptions.ObjectStoreDir), "DIR", "Folder for the object store's shared-memory segments. Default: /dev/shm/rayorleans."),
        new("--resources", nameof(SiloHostOptions.Resources), "JSON", "Custom resources as a JSON object, e.g. '{\"accelerator_x\": 2}'. Default: none."),
        new("--labels", nameof(SiloHostOptions.Labels), "JSON", "Node labels as a JSON object, e.g. '{\"zone\": \"a\"}', for NodeLabels scheduling. Default: none."),
        new("--same-host-shm", nameof(SiloHostOptions.SameHostShm), "true|false", "Read other same-host nodes' large objects through shared memory (true) or in chunks as across hosts (false). Default: true."),
        new("--orleans-dashboard", nameof(SiloHostOptions.OrleansDashboard), "true|false", "Host the Orleans Dashboard (grain-level view) at /orleans/ on the HTTP port; every silo of a cluster should agree. Default: true."),
        new("--autoscaler-config", nameof(SiloHostOptions.AutoscalerConfig), "FILE", "Run the autoscaler in this node (the head) with the node types and timings in this JSON file (docs/deploy.md). Default: none."),
        new("--code-dir", nameof(SiloHostOptions.CodeDir), "DIRS", "Folders (separated by ';') searched for the assemblies of user tasks and actors. Default: none."),
        new("--job-code-dir", nameof(SiloHostOptions.JobCodeDir), "DIR", "Folder where drivers' shipped code packages are unpacked, one folder per package hash. Default: $TMPDIR/rayorleans-code."),
        new("--jobs-dir", nameof(SiloHostOptions.JobsDir), "DIR", "Folder of submitted jobs' packages and driver logs. Default: $TMPDIR/rayorleans-jobs/<cluster id>-<http port>."),
        new("--job-stop-grace-seconds", nameof(SiloHostOptions.JobStopGraceSeconds), "SECONDS", "Time a stopped job's driver gets between SIGTERM and SIGKILL. Default: 5."),
        new("--max-package-size", nameof(SiloHostOptions.MaxPackageSize), "BYTES", "Largest job package (zip) accepted. Default: 536870912 (512 MiB)."),
        new("--max-unpacked-package-size", nameof(SiloHostOptions.MaxUnpackedPackageSize), "BYTES", "Largest total size of a job package's files once unpacked. Default: 2147483648 (2 GiB)."),
        new("--max-finished-jobs", nameof(SiloHostOptions.MaxFinishedJobs), "N", "Finished jobs remembered, with their logs; older ones are forgotten. Default: 1000."),
    ];

    private static readonly Dictionary<string, SiloHostSwitch> ByName = All.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The switch that sets <paramref name="property"/>.</summary>
    public static SiloHostSwitch ForProperty(string property) =>
        All.FirstOrDefault(s => s.Property == property) ?? throw new ArgumentOutOfRangeException(nameof(property), property, "No switch sets this property.");

    /// <summary>Switch to configuration key, as <c>AddCommandLine</c> takes them.</summary>
    public static IDictionary<string, string> CommandLineMappings() =>
        All.ToDictionary(s => s.Name, s => s.ConfigurationKey, StringComparer.OrdinalIgnoreCase);

    /// <summary>The configuration values the <c>RAY_*</c> variables in <paramref name="environment"/> set.</summary>
    public static Dictionary<string, string?> FromEnvironment(IDictionary environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var option in All)
        {
            if (environment[option.EnvironmentVariable] is string value)
            {
                values[option.ConfigurationKey] = value;
            }
        }

        return values;
    }

    /// <summary>True when <paramref name="args"/> asks for the usage text.</summary>
    public static bool WantsHelp(IEnumerable<string> args) =>
        args.Any(a => a is "--help" or "-h" or "-?" or "/?");

    /// <summary>
    /// Rejects what configuration's command-line provider would silently ignore or misread: an unknown
    /// switch (a typo would otherwise leave the default in force), a switch without a value, a stray word.
    /// A raw configuration key with a colon (<c>--Logging:LogLevel:Orleans=Information</c>) passes through.
    /// </summary>
    public static void CheckArguments(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new InvalidSiloOptionException($"unexpected argument '{arg}'; options are --name value or --name=value.");
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!ByName.ContainsKey(name) && !name.Contains(':', StringComparison.Ordinal))
            {
                throw new InvalidSiloOptionException($"unknown option '{name}'.");
            }

            if (equals < 0)
            {
                if (i + 1 == args.Count)
                {
                    throw new InvalidSiloOptionException($"{name}: a value is missing.");
                }

                i++; // The next word is the value, whatever it looks like (--num-cpus -1 reaches validation).
            }
        }
    }

    /// <summary>The usage text, generated from <see cref="All"/>.</summary>
    public static string Usage()
    {
        var text = new StringBuilder();
        text.AppendLine("RayOrleans node host: one Orleans silo as a Ray node.");
        text.AppendLine();
        text.AppendLine("Usage: RayOrleans.Silo [--option value]...");
        text.AppendLine();
        text.AppendLine("Options (each also settable as the environment variable shown, or under \"Ray\" in appsettings.json):");
        var width = All.Max(s => s.Name.Length + s.Value.Length + 1);
        foreach (var option in All)
        {
            text.Append("  ").Append($"{option.Name} {option.Value}".PadRight(width + 2)).AppendLine(option.Help);
            text.Append(' ', width + 4).AppendLine(option.EnvironmentVariable);
        }

        text.AppendLine("  --help".PadRight(width + 4) + "Print this text.");
        text.AppendLine();
        text.AppendLine("Any configuration key can be set as --Section:Key=value, e.g. --Logging:LogLevel:Orleans=Information.");
        text.Append("Precedence: command line, then RAY_* variables, then appsettings.json.");
        return text.ToString();
    }
}
