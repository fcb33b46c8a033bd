using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;
using RayOrleans.Hosting;
using RayOrleans.Node;
using RayOrleans.Runtime;
using StackExchange.Redis;

namespace RayOrleans;

public sealed partial class Ray
{
    /// <summary>
    /// Starts an embedded single-node cluster inside this process (on free loopback ports) and returns the
    /// driver connected to it. Disposing the driver stops the cluster. When the <c>RAY_ADDRESS</c> environment
    /// variable names a cluster (a submitted job's driver runs with it set), connects to that cluster instead,
    /// as Ray's <c>ray.init()</c> does; <see cref="RayInitOptions.UseRayAddressVariable"/> turns that off.
    /// </summary>
    public static async Task<Ray> InitAsync(RayInitOptions? options = null)
    {
        options ??= new RayInitOptions();
        if (options.UseRayAddressVariable && Environment.GetEnvironmentVariable(RayAddressVariable) is { Length: > 0 } address)
        {
            return await InitAsync(address.Trim(), options).ConfigureAwait(false);
        }

        options.Runtime.Validate();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IHostLifetime, DriverHostLifetime>();
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        var siloPort = FreePort.Next();
        var gatewayPort = FreePort.Next();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId ?? $"ray-{Guid.NewGuid():N}");
            silo.Configure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback);
            if (options.ClusterCertificate is { } certificate)
            {
                silo.UseClusterTls(certificate);
            }

            silo.AddRayNode(
                node =>
                {
                    node.NumCpus = options.NumCpus;
                    node.NumGpus = options.NumGpus;
                    node.Memory = options.Memory;
                    node.ObjectStoreMemory = options.ObjectStoreMemory;
                    node.ObjectStoreDirectory = options.ObjectStoreDirectory;
                    node.OrleansTracing = options.OrleansTracing;
                    foreach (var (name, amount) in options.Resources ?? new Dictionary<string, double>())
                    {
                        node.Resources[name] = amount;
                    }
                },
                runtime => Copy(options.Runtime, runtime));
        });
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        // The driver shares the node's runtime: same process, so reads of large objects are local.
        var ray = new Ray(host.Services.GetRequiredService<NodeRuntime>().Runtime, host)
        {
            Address = $"127.0.0.1:{gatewayPort}",
        };
        ray.Runtime.JobId = JobIdFor(options);
        await ray.StartJobAsync(options, host.Services.GetService<ILoggerFactory>()).ConfigureAwait(false);
        Volatile.Write(ref _driver, ray);
        return ray;
    }

    /// <summary>
    /// Connects to a running cluster as an Orleans client. <paramref name="address"/> is either
    /// <c>redis://host:port</c> (Redis membership, as the silo host uses) or a comma-separated gateway list
    /// <c>host:port[,host:port]</c>.
    /// </summary>
    public static async Task<Ray> InitAsync(string address, RayInitOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        options ??= new RayInitOptions();

        // A submitted job's driver is told which cluster it belongs to; options set in code win.
        if (options.ClusterId is null && Environment.GetEnvironmentVariable(ClusterIdVariable) is { Length: > 0 } clusterId)
        {
            options = options with { ClusterId = clusterId };
        }

        if (options.ServiceId == "rayorleans" && Environment.GetEnvironmentVariable(ServiceIdVariable) is { Length: > 0 } serviceId)
        {
            options = options with { ServiceId = serviceId };
        }

        options.Runtime.Validate();
        // The address is checked here, before any connection is tried: a typo fails at once, naming itself.
        var (redis, gateways) = ParseAddress(address);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IHostLifetime, DriverHostLifetime>();
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        RayRuntime? attached = null;
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId ?? "rayorleans";
                o.ServiceId = options.ServiceId;
            });
            if (options.ClusterCertificate is { } certificate)
            {
                client.UseClusterTls(certificate);
            }

            // A gateway that went away may have taken replies with it: look for them at once.
            client.AddGatewayCountChangedHandler((_, e) =>
            {
                if (e.NumberOfConnectedGateways < e.PreviousNumberOfConnectedGateways)
                {
                    attached?.InFlight.GatewayLost();
                }
            });
            // The driver's grain calls carry its trace context when tracing is wanted (see RayInitOptions.OrleansTracing).
            if (options.OrleansTracing ?? Telemetry.RayTelemetry.OrleansTracingByEnvironment())
            {
                client.AddActivityPropagation();
            }
            if (redis is not null)
            {
                client.UseRedisClustering(o => o.ConfigurationOptions = redis);
            }
            else
            {
                client.UseStaticClustering(gateways!);
            }
        });
        var host = builder.Build();
        try
        {
            // The Orleans client retries its gateways for as long as start runs; bound it, so a wrong
            // address or cluster id fails with a message instead of hanging.
            using var connect = new CancellationTokenSource(options.ConnectTimeout);
            try
            {
                await host.StartAsync(connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (connect.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"Could not connect to a RayOrleans cluster at '{address}' (cluster id '{options.ClusterId ?? "rayorleans"}') within {options.ConnectTimeout.TotalSeconds:0} s" +
                    (options.ClusterCertificate is null
                        ? " (if the cluster is closed with TLS, pass its certificate as RayInitOptions.ClusterCertificate)."
                        : " (is RayInitOptions.ClusterCertificate the cluster's own certificate?)."));
            }

            var ray = await AttachCoreAsync(host.Services.GetRequiredService<IClusterClient>(), options, host).ConfigureAwait(false);
            ray.Address = address;
            if (options.ShipCode)
            {
                await ray.ShipCodeAsync().ConfigureAwait(false);
            }

            await ray.StartJobAsync(options, host.Services.GetService<ILoggerFactory>()).ConfigureAwait(false);

            attached = ray.Runtime;
            Volatile.Write(ref _driver, ray);
            return ray;
        }
        catch
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stop.Token).ConfigureAwait(false);
            host.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A driver over an Orleans client this application already runs (for example in an ASP.NET host).
    /// The caller keeps owning the client; disposing the driver only kills its non-detached actors.
    /// </summary>
    public static async Task<Ray> AttachAsync(IClusterClient client, RayInitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= new RayInitOptions();
        var ray = await AttachCoreAsync(client, options, host: null).ConfigureAwait(false);
        await ray.StartJobAsync(options, client.ServiceProvider.GetService<ILoggerFactory>()).ConfigureAwait(false);
        return ray;
    }

    private static async Task<Ray> AttachCoreAsync(IClusterClient client, RayInitOptions options, IHost? host)
    {
        var cluster = new ClusterView(client, options.Runtime.ClusterRefreshInterval);
        await cluster.RefreshAsync(options.ConnectTimeout).ConfigureAwait(false);
        if (cluster.Nodes.Count == 0)
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"The cluster reported no RayOrleans node within {options.ConnectTimeout.TotalSeconds:0} s; are its silos started with AddRayNode?");
        }

        cluster.Start();
        // The driver logs through the application's logging when it has a host (its own, or the caller's services).
        var services = host?.Services ?? client.ServiceProvider;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger<RayRuntime>() ?? (ILogger<RayRuntime>)NullLogger<RayRuntime>.Instance;
        var runtime = new RayRuntime(client, cluster, options.Runtime, localStore: null, localNodeId: null, logger) { JobId = JobIdFor(options) };
        return new Ray(runtime, host);
    }

    /// <summary>
    /// Puts this driver's assemblies into the object store, published so any node can read them, and makes
    /// them the code every task and actor of this driver runs from. The ref is kept for the driver's life.
    /// </summary>
    private async Task ShipCodeAsync() => Runtime.Code = await PutCodeAsync(AppContext.BaseDirectory).ConfigureAwait(false);

    /// <summary>Packs <paramref name="folder"/>'s user assemblies into a code package in the object store, held while this driver lives.</summary>
    internal async Task<Messages.CodePackage> PutCodeAsync(string folder)
    {
        var (zip, hash) = Jobs.CodePackager.Pack(folder);
        var package = await PutAsync(zip).ConfigureAwait(false);
        Runtime.Owned.Escape(package.Id); // read by nodes through the directory, not passed as an argument
        await Runtime.Publisher.FlushAsync().ConfigureAwait(false);
        lock (_codePackages)
        {
            _codePackages.Add(package);
        }

        return new Messages.CodePackage { Hash = hash, Object = package.Id, Size = zip.Length };
    }

    /// <summary>The shipped code's objects, held so they live as long as this driver.</summary>
    private readonly List<ObjectRef<byte[]>> _codePackages = [];

    /// <summary>The environment variable naming the cluster <c>InitAsync()</c> connects to (Ray's <c>RAY_ADDRESS</c>).</summary>
    public const string RayAddressVariable = "RAY_ADDRESS";

    /// <summary>The environment variable naming the Orleans cluster id a driver joins when its options name none (set by job submission).</summary>
    public const string ClusterIdVariable = "RAYORLEANS_CLUSTER_ID";

    /// <summary>The environment variable naming the Orleans service id a driver joins when its options keep the default (set by job submission).</summary>
    public const string ServiceIdVariable = "RAYORLEANS_SERVICE_ID";

    /// <summary>The environment variable job submission sets to the submission id, taken as the driver's job id.</summary>
    public const string JobIdVariable = "RAYORLEANS_JOB_ID";

    private static string JobIdFor(RayInitOptions options) =>
        options.JobId is { Length: > 0 } given ? given
        : Environment.GetEnvironmentVariable(JobIdVariable) is { Length: > 0 } submitted ? submitted
        : Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// Reads <c>redis://host:port</c> or a <c>host:port[,host:port]</c> gateway list; throws
    /// <see cref="ArgumentException"/> naming the address and what is wrong with it.
    /// </summary>
    private static (ConfigurationOptions? Redis, IPEndPoint[]? Gateways) ParseAddress(string address)
    {
        const string expected = "expected redis://host:port (Redis membership) or host:port[,host:port] (gateways)";
        if (address.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = address["redis://".Length..].Trim();
            ConfigurationOptions? configuration = null;
            try
            {
                configuration = rest.Length == 0 ? null : ConfigurationOptions.Parse(rest);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new ArgumentException($"Address '{address}' is not a Redis address ({e.Message}); {expected}.", nameof(address), e);
            }

            if (configuration is null || configuration.EndPoints.Count == 0)
            {
                throw new ArgumentException($"Address '{address}' names no Redis server; {expected}.", nameof(address));
            }

            return (configuration, null);
        }

        var parts = address.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException($"Address '{address}' names no gateway; {expected}.", nameof(address));
        }

        return (null, parts.Select(part => ParseEndpoint(address, part, expected)).ToArray());
    }

    private static IPEndPoint ParseEndpoint(string address, string text, string expected)
    {
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0 && text.Contains(':', StringComparison.Ordinal))
        {
            return endpoint;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"Address '{address}': '{text}' is not host:port with a port from 1 to 65535; {expected}.", nameof(address));
        }

        var host = text[..colon];
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException)
        {
            throw new ArgumentException($"Address '{address}': host '{host}' cannot be resolved ({e.Message}).", nameof(address), e);
        }

        return addresses.Length > 0
            ? new IPEndPoint(addresses[0], port)
            : throw new ArgumentException($"Address '{address}': host '{host}' resolves to no address.", nameof(address));
    }

    private static void Copy(RuntimeOptions from, RuntimeOptions to)
    {
        to.InlineThreshold = from.InlineThreshold;
        to.ChunkSize = from.ChunkSize;
        to.DirectoryShards = from.DirectoryShards;
        to.LongPollInterval = from.LongPollInterval;
        to.ClusterRefreshInterval = from.ClusterRefreshInterval;
        to.SameHostSharedMemory = from.SameHostSharedMemory;
        to.MaxLineageArgumentBytes = from.MaxLineageArgumentBytes;
        to.MaxInlineArgumentBytes = from.MaxInlineArgumentBytes;
        to.DriverHeartbeatInterval = from.DriverHeartbeatInterval;
        to.DriverTimeout = from.DriverTimeout;
    }
}
