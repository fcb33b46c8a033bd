using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RayOrleans.Cli.Nodes;
using RayOrleans.Cli.Session;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo start --head</c> / <c>rayo start --address ADDRESS</c>: Ray's <c>ray start</c>. Starts one silo host
/// in the background, records it in the session, waits until it serves <c>/healthz</c>, and prints the
/// addresses to give workers, drivers and <c>rayo job submit</c>.
/// </summary>
internal sealed class StartCommand : AsyncCommand<StartCommand.Settings>
{
    /// <summary>Ray's default ports: the head's silo (Ray's GCS port is 6379; ours is Orleans' 11111), gateway, dashboard.</summary>
    private const int DefaultSiloPort = 11111;
    private const int DefaultGatewayPort = 30000;
    private const int DefaultDashboardPort = 8265;
    private const string DefaultClusterId = "rayorleans";

    internal sealed class Settings : SessionSettings
    {
        [CommandOption("--head")]
        [Description("Start the head node of a new cluster.")]
        public bool Head { get; set; }

        [CommandOption("--address <ADDRESS>")]
        [Description("Join the cluster at ADDRESS as a worker: what start --head printed (IP:port of the head's silo, or redis://host:port). Default: this session's head.")]
        public string? Address { get; set; }

        [CommandOption("--port <PORT>")]
        [Description("The silo port. Default: 11111 for a head, a free port for a worker.")]
        public int? Port { get; set; }

        [CommandOption("--gateway-port <PORT>")]
        [Description("The port drivers connect to. Default: 30000 for a head, a free port for a worker.")]
        public int? GatewayPort { get; set; }

        [CommandOption("--dashboard-port <PORT>")]
        [Description("The HTTP port (state and job API, 127.0.0.1 only). Default: 8265 for a head, a free port for a worker.")]
        public int? DashboardPort { get; set; }

        [CommandOption("--num-cpus <N>")]
        [Description("CPUs the node offers. Default: the machine's processor count.")]
        public double? NumCpus { get; set; }

        [CommandOption("--num-gpus <N>")]
        [Description("GPUs the node offers. Default: the GPUs it finds.")]
        public double? NumGpus { get; set; }

        [CommandOption("--resources <JSON>")]
        [Description("Custom resources, a JSON object such as '{\"accelerator_x\": 2}'.")]
        public string? Resources { get; set; }

        [CommandOption("--labels <JSON>")]
        [Description("Node labels, a JSON object such as '{\"zone\": \"a\"}'.")]
        public string? Labels { get; set; }

        [CommandOption("--redis-address <HOST:PORT>")]
        [Description("Head only: use Redis membership at HOST:PORT (a redis-server you run). Default: the head holds membership itself.")]
        public string? RedisAddress { get; set; }

        [CommandOption("--code-dir <DIRS>")]
        [Description("Folders (separated by ';') with the assemblies of your tasks and actors.")]
        public string? CodeDir { get; set; }

        [CommandOption("--cluster-id <ID>")]
        [Description("The Orleans cluster id. Default: rayorleans (a worker: its session head's).")]
        public string? ClusterId { get; set; }

        [CommandOption("--node-ip-address <IP>")]
        [Description("The IP other machines reach this node at. Default: 127.0.0.1 (this machine only).")]
        public string? NodeIpAddress { get; set; }

        [CommandOption("--object-store-memory <BYTES>")]
        [Description("Bytes the node's object store may hold. Default: 30% of the memory the node may use.")]
        public long? ObjectStoreMemory { get; set; }

        [CommandOption("--object-store-dir <DIR>")]
        [Description("Folder of the object store's shared-memory segments. Default: /dev/shm/rayorleans.")]
        public string? ObjectStoreDir { get; set; }

        [CommandOption("--autoscaler-config <FILE>")]
        [Description("Head only: run the autoscaler in the head with the node types and timings in this JSON file (docs/deploy.md).")]
        public string? AutoscalerConfig { get; set; }

        [CommandOption("--silo-path <PATH>")]
        [Description("The silo host (RayOrleans.Silo.dll or its folder). Default: RAYO_SILO_PATH, else the one shipped with rayo.")]
        public string? SiloPath { get; set; }

        [CommandOption("--timeout <SECONDS>")]
        [Description("How long to wait for the node to answer /healthz. Default: 60.")]
        public double Timeout { get; set; } = 60;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var session = SessionStore.Open(settings.SessionDir);
        var plan = Plan(settings, session);
        var siloDll = SiloLocator.Locate(settings.SiloPath);
        var logFile = Path.Combine(session.LogDirectory, $"{plan.Role}-{plan.SiloPort}.log");

        var process = SiloLauncher.StartDetached(siloDll, plan.Arguments, logFile);
        var node = new SessionNode
        {
            Role = plan.Role,
            Pid = process.Id,
            ProcessStartTime = process.StartTime.ToUniversalTime(),
            ClusterId = plan.ClusterId,
            ClusterAddress = plan.ClusterAddress,
            SiloEndpoint = $"{plan.Ip}:{plan.SiloPort}",
            GatewayEndpoint = $"{plan.Ip}:{plan.GatewayPort}",
            HttpAddress = $"http://127.0.0.1:{plan.HttpPort}",
            LogFile = logFile,
            Started = DateTimeOffset.UtcNow,
        };

        // Recorded before it is up, so `rayo stop` finds even a node that hangs while starting.
        session.Update(nodes =>
        {
            nodes.RemoveAll(n => !NodeProcesses.IsAlive(n)); // nodes that died since: nothing left to stop
            nodes.Add(node);
            return 0;
        });
        try
        {
            var waiting = SiloLauncher.WaitUntilHealthyAsync(process, node.HttpAddress, logFile, TimeSpan.FromSeconds(settings.Timeout), cancellationToken);
            if (Console.IsOutputRedirected)
            {
                await waiting;
            }
            else
            {
                // A spinner in a terminal only; scripts and logs get just the report.
                await AnsiConsole.Status().StartAsync($"Starting the {plan.Role} node (pid {node.Pid}), waiting for {node.HttpAddress}/healthz...", _ => waiting);
            }
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            session.Update(nodes => nodes.RemoveAll(n => n.Pid == node.Pid));
            throw;
        }

        Report(node, plan);
        return ExitCodes.Success;
    }

    private static void Report(SessionNode node, StartPlan plan)
    {
        var clusterIdOption = plan.ClusterId == DefaultClusterId ? "" : $" --cluster-id {plan.ClusterId}";
        var driverAddress = plan.Redis is null ? node.GatewayEndpoint : node.ClusterAddress;
        var driverClusterId = plan.ClusterId == DefaultClusterId ? "" : $" with RayInitOptions.ClusterId = \"{plan.ClusterId}\"";

        // Plain lines, not a Spectre grid: they are copied into other commands and scripts, unwrapped.
        var output = Console.Out;
        output.WriteLine($"RayOrleans {node.Role} node started: pid {node.Pid}, cluster {node.ClusterId}.");
        output.WriteLine($"  cluster address:  {node.ClusterAddress}");
        output.WriteLine($"  silo:             {node.SiloEndpoint}");
        output.WriteLine($"  HTTP (state/job): {node.HttpAddress}");
        output.WriteLine($"  driver address:   {driverAddress}   (Ray.InitAsync(\"{driverAddress}\"){driverClusterId})");
        output.WriteLine($"  log:              {node.LogFile}");
        output.WriteLine();
        if (node.IsHead)
        {
            output.WriteLine("Next:");
            output.WriteLine($"  add a worker node:         rayo start --address {node.ClusterAddress}{clusterIdOption}");
            output.WriteLine($"  see the cluster:           rayo status --address {node.HttpAddress}");
            output.WriteLine($"  submit a job:              rayo job submit --address {node.HttpAddress} --working-dir . -- dotnet MyDriver.dll");
        }

        output.WriteLine("  stop this machine's nodes: rayo stop");
    }

    /// <summary>What to start, worked out from the settings and the session; bad input throws before anything starts.</summary>
    private static StartPlan Plan(Settings settings, SessionStore session)
    {
        if (settings.Head && !string.IsNullOrWhiteSpace(settings.Address))
        {
            throw CliException.BadInput("--head and --address exclude each other: a head starts a cluster, --address joins one.");
        }

        if (settings.Timeout is <= 0 or > 3600 || double.IsNaN(settings.Timeout))
        {
            throw CliException.BadInput($"--timeout: {settings.Timeout.ToString(CultureInfo.InvariantCulture)} is not a number of seconds between 0 and 3600.");
        }

        CheckJsonObject("--resources", settings.Resources, JsonValueKind.Number, "{\"accelerator_x\": 2}");
        CheckJsonObject("--labels", settings.Labels, JsonValueKind.String, "{\"zone\": \"a\"}");
        CheckAmount("--num-cpus", settings.NumCpus);
        CheckAmount("--num-gpus", settings.NumGpus);
        var ip = settings.NodeIpAddress ?? "127.0.0.1";
        if (!IPAddress.TryParse(ip, out var parsedIp) || parsedIp.Equals(IPAddress.Any) || parsedIp.Equals(IPAddress.IPv6Any))
        {
            throw CliException.BadInput($"--node-ip-address: '{ip}' is not an IP address others can reach this node at.");
        }

        var arguments = new List<string>();
        string role, clusterId, clusterAddress;
        string? redis = null;
        if (settings.Head)
        {
            role = SessionRoles.Head;
            clusterId = settings.ClusterId ?? DefaultClusterId;
            if (session.LiveHead() is { } running)
            {
                throw CliException.Failure(
                    $"this session already has a head node (pid {running.Pid}, {running.HttpAddress}); rayo stop first, or give another --session-dir.");
            }

            if (settings.RedisAddress is { } redisAddress)
            {
                redis = ParseHostPort(StripScheme(redisAddress, "redis://"), "--redis-address");
                clusterAddress = "redis://" + redis;
            }
            else
            {
                clusterAddress = ""; // the head's own silo endpoint, known once the port is
            }
        }
        else
        {
            role = SessionRoles.Worker;
            if (settings.RedisAddress is not null)
            {
                throw CliException.BadInput("--redis-address is for a head; a worker joins with --address redis://host:port.");
            }

            var head = session.LiveHead();
            var address = settings.Address
                ?? head?.ClusterAddress
                ?? throw CliException.BadInput("give --head to start a new cluster, or --address ADDRESS (what start --head printed) to join one.");
            if (address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                throw CliException.BadInput($"--address: '{address}' is an HTTP address; a worker joins at the cluster address start --head printed (IP:port or redis://host:port).");
            }

            if (address.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
            {
                redis = ParseHostPort(StripScheme(address, "redis://"), "--address");
                clusterAddress = "redis://" + redis;
            }
            else
            {
                clusterAddress = ParseSiloEndpoint(address);
                arguments.AddRange(["--primary-silo", clusterAddress]);
            }

            clusterId = settings.ClusterId ?? (head is not null && head.ClusterAddress == clusterAddress ? head.ClusterId : DefaultClusterId);
        }

        // A head takes Ray's well-known ports unless told otherwise; a worker, usually one of several on a
        // machine, takes free ones. The free ones are held together until all are chosen, so they differ.
        int siloPort, gatewayPort, httpPort;
        if (settings.Head)
        {
            siloPort = settings.Port ?? DefaultSiloPort;
            gatewayPort = settings.GatewayPort ?? DefaultGatewayPort;
            httpPort = settings.DashboardPort ?? DefaultDashboardPort;
        }
        else
        {
            var free = Autoscaler.Providers.FreePorts.Take(3);
            siloPort = settings.Port ?? free[0];
            gatewayPort = settings.GatewayPort ?? free[1];
            httpPort = settings.DashboardPort ?? free[2];
        }

        CheckPort("--port", siloPort);
        CheckPort("--gateway-port", gatewayPort);
        CheckPort("--dashboard-port", httpPort);
        if (siloPort == gatewayPort || siloPort == httpPort || gatewayPort == httpPort)
        {
            throw CliException.BadInput($"--port ({siloPort}), --gateway-port ({gatewayPort}) and --dashboard-port ({httpPort}) must differ.");
        }

        if (settings.Head && redis is null)
        {
            clusterAddress = $"{ip}:{siloPort}";
        }

        if (string.IsNullOrWhiteSpace(clusterId))
        {
            throw CliException.BadInput("--cluster-id must not be empty.");
        }

        arguments.AddRange(["--cluster-id", clusterId, "--service-id", clusterId]);
        arguments.AddRange(redis is null ? ["--clustering", "localhost"] : ["--clustering", "redis", "--redis", redis]);
        arguments.AddRange(["--silo-port", Invariant(siloPort), "--gateway-port", Invariant(gatewayPort), "--http-port", Invariant(httpPort)]);
        arguments.AddRange(["--advertised-ip", ip]);
        if (settings.NumCpus is { } cpus)
        {
            arguments.AddRange(["--num-cpus", cpus.ToString(CultureInfo.InvariantCulture)]);
        }

        if (settings.NumGpus is { } gpus)
        {
            arguments.AddRange(["--num-gpus", gpus.ToString(CultureInfo.InvariantCulture)]);
        }

        if (settings.Resources is { } resources)
        {
            arguments.AddRange(["--resources", resources]);
        }

        if (settings.Labels is { } labels)
        {
            arguments.AddRange(["--labels", labels]);
        }

        if (settings.ObjectStoreMemory is { } storeBytes)
        {
            arguments.AddRange(["--object-store-memory", storeBytes.ToString(CultureInfo.InvariantCulture)]);
        }

        if (settings.ObjectStoreDir is { } storeDir)
        {
            arguments.AddRange(["--object-store-dir", Path.GetFullPath(storeDir)]);
        }

        if (settings.AutoscalerConfig is { } autoscalerConfig)
        {
            if (!settings.Head)
            {
                throw CliException.BadInput("--autoscaler-config is for a head; the autoscaler runs once per cluster.");
            }

            // Absolute, since the silo runs in its own folder; the silo itself checks what is in it (exit 2, naming the problem).
            var path = Path.GetFullPath(autoscalerConfig);
            if (!File.Exists(path))
            {
                throw CliException.BadInput($"--autoscaler-config: '{autoscalerConfig}' is not a file.");
            }

            arguments.AddRange(["--autoscaler-config", path]);
        }

        if (settings.CodeDir is { } codeDir)
        {
            // Absolute, since the silo runs in its own folder.
            var directories = codeDir.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath).ToList();
            foreach (var directory in directories.Where(d => !Directory.Exists(d)))
            {
                throw CliException.BadInput($"--code-dir: '{directory}' is not a folder.");
            }

            arguments.AddRange(["--code-dir", string.Join(';', directories)]);
        }

        return new StartPlan(role, clusterId, clusterAddress, redis, ip, siloPort, gatewayPort, httpPort, arguments);
    }

    private sealed record StartPlan(
        string Role, string ClusterId, string ClusterAddress, string? Redis, string Ip, int SiloPort, int GatewayPort, int HttpPort, List<string> Arguments);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void CheckJsonObject(string option, string? json, JsonValueKind valueKind, string example)
    {
        if (json is null)
        {
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw CliException.BadInput($"{option}: '{json}' is not a JSON object like {example}.");
            }

            foreach (var property in document.RootElement.EnumerateObject().Where(p => p.Value.ValueKind != valueKind))
            {
                throw CliException.BadInput($"{option}: '{property.Name}' is {property.Value.GetRawText()}; expected a {(valueKind == JsonValueKind.Number ? "number" : "string")}, as in {example}.");
            }
        }
        catch (JsonException e)
        {
            throw CliException.BadInput($"{option}: '{json}' is not valid JSON ({e.Message.Split(" Path:")[0]}); expected an object like {example}.");
        }
    }

    private static void CheckAmount(string option, double? amount)
    {
        if (amount is { } value && (value < 0 || !double.IsFinite(value)))
        {
            throw CliException.BadInput($"{option}: {value.ToString(CultureInfo.InvariantCulture)} is not an amount of at least 0.");
        }
    }

    private static void CheckPort(string option, int port)
    {
        if (port is < 1 or > 65535)
        {
            throw CliException.BadInput($"{option}: {port} is not a TCP port; expected 1 to 65535.");
        }
    }

    private static string StripScheme(string address, string scheme) =>
        address.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? address[scheme.Length..] : address;

    /// <summary><c>host:port</c> with a port in range; the host is kept as given (Redis resolves names itself).</summary>
    private static string ParseHostPort(string text, string option)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? text.TrimEnd('/')
            : throw CliException.BadInput($"{option}: '{text}' is not host:port, for example 127.0.0.1:6379.");
    }

    /// <summary>The head's silo endpoint as IP:port (a host name is resolved here: the silo host takes an IP).</summary>
    private static string ParseSiloEndpoint(string address)
    {
        if (IPEndPoint.TryParse(address, out var endpoint) && endpoint.Port > 0 && address.Contains(':', StringComparison.Ordinal))
        {
            return endpoint.ToString();
        }

        var colon = address.LastIndexOf(':');
        if (colon > 0 && int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535)
        {
            try
            {
                var ip = Dns.GetHostAddresses(address[..colon]).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
                if (ip is not null)
                {
                    return new IPEndPoint(ip, port).ToString();
                }
            }
            catch (SocketException)
            {
                // falls through to the error below
            }
        }

        throw CliException.BadInput($"--address: '{address}' is not a cluster address; expected the head's IP:port (such as 127.0.0.1:11111) or redis://host:port.");
    }

}
