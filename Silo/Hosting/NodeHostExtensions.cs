using System.Net;
using System.Net.Sockets;
using Orleans.Configuration;
using RayOrleans.Hosting;
using RayOrleans.Silo.Dashboard;

namespace RayOrleans.Silo.Hosting;

/// <summary>Turns a web application host into a RayOrleans node: an Orleans silo with the Ray node services, and Kestrel on loopback.</summary>
internal static class NodeHostExtensions
{
    /// <summary>Adds the silo (cluster, endpoints, membership, node resources) and binds Kestrel as <paramref name="options"/> say.</summary>
    public static WebApplicationBuilder AddRayNodeHost(this WebApplicationBuilder builder, SiloHostOptions options)
    {
        EnsureFree(options.ListenAddress, options.SiloPort, "--silo-port");
        EnsureFree(options.ListenAddress, options.GatewayPort, "--gateway-port");
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            silo.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = options.AdvertisedAddress;
                o.SiloPort = options.SiloPort;
                o.GatewayPort = options.GatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(options.ListenAddress, options.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(options.ListenAddress, options.GatewayPort);
            });

            switch (options.Clustering)
            {
                case ClusteringProvider.Redis:
                    var redis = options.ToRedisConfiguration();
                    silo.UseRedisClustering(o => o.ConfigurationOptions = redis);
                    silo.UseRedisClusterStateStorage(redis);
                    break;
                default:
                    // Development membership: the primary silo holds the membership table in memory and every
                    // other silo joins through it. Without --primary-silo this silo is the primary (what
                    // UseLocalhostClustering does, but at the advertised address rather than always 127.0.0.1);
                    // with it, this silo is a worker of the head at that endpoint (`rayo start --address`).
                    silo.UseDevelopmentClustering(options.PrimarySiloEndpoint ?? new IPEndPoint(options.AdvertisedAddress, options.SiloPort));
                    // Placement group records then live in memory grain storage (AddRayNode's default): they die
                    // with the silo holding them, as the membership table dies with the primary.
                    break;
            }

            if (options.UsesKubernetesHosting)
            {
                // In a pod: Orleans takes the cluster and service ids and the pod's IP from the pod's environment
                // (the manifests in deploy/ set them to the same values as RAY_CLUSTER_ID/RAY_SERVICE_ID), and
                // declares silos whose pods are gone dead at once, not after the probe timeout.
                silo.UseKubernetesHosting();
            }

            if (options.TlsCertificate is { } certificate)
            {
                try
                {
                    silo.UseClusterTls(ClusterTls.Load(certificate, Environment.GetEnvironmentVariable("RAYORLEANS_TLS_PASSWORD")));
                }
                catch (Exception e) when (e is ArgumentException or IOException)
                {
                    throw new NodeStartException($"--tls-certificate: {e.Message}", e);
                }
            }

            // The node runtime keeps its own NodeOptions; copy ours in, the same values the start line prints.
            var node = options.ToNodeOptions();
            silo.AddRayNode(n =>
            {
                n.NumCpus = node.NumCpus;
                n.NumGpus = node.NumGpus;
                n.Memory = node.Memory;
                n.ObjectStoreMemory = node.ObjectStoreMemory;
                n.MemoryUsageThreshold = node.MemoryUsageThreshold;
                n.ObjectStoreDirectory = node.ObjectStoreDirectory;
                n.CodeDirectories = node.CodeDirectories;
                n.JobCodeDirectory = node.JobCodeDirectory;
                n.MaxTaskEvents = node.MaxTaskEvents;
                foreach (var (name, amount) in node.Resources)
                {
                    n.Resources[name] = amount;
                }

                foreach (var (key, value) in node.Labels)
                {
                    n.Labels[key] = value;
                }
            },
            runtime => runtime.SameHostSharedMemory = options.SameHostShm);

            if (options.OrleansDashboard)
            {
                silo.AddOrleansGrainDashboard();
            }
        });

        builder.AddRayTelemetry(instanceId: $"{options.AdvertisedAddress}:{options.SiloPort}");

        // The HTTP endpoint has no authentication, so it listens on loopback only, whatever ASPNETCORE_URLS says.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(options.HttpListenAddress, options.HttpPort));
        return builder;
    }

    /// <summary>
    /// Fails when another process listens on the port. Orleans' listeners set ReuseAddress, which .NET on
    /// Linux maps to SO_REUSEPORT too, so a second node on a taken port would start and the kernel would
    /// split connections between the two; a plain bind here still fails on such a port.
    /// </summary>
    private static void EnsureFree(IPAddress address, int port, string option)
    {
        var probe = new TcpListener(address, port);
        try
        {
            probe.Start();
        }
        catch (SocketException e)
        {
            throw new NodeStartException($"{option}: {address}:{port} is not available ({e.Message}); is another node running there?", e);
        }
        finally
        {
            probe.Stop();
        }
    }
}

/// <summary>The node cannot start on this machine as configured (a port in use); the host exits with code 1.</summary>
internal sealed class NodeStartException(string message, Exception innerException) : Exception(message, innerException);
