using System.ComponentModel;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using RayOrleans.Autoscaler;
using RayOrleans.Autoscaler.Hosting;
using RayOrleans.Autoscaler.Providers;
using RayOrleans.Cli.Nodes;
using RayOrleans.Cli.Session;
using Spectre.Console.Cli;
using StackExchange.Redis;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo autoscaler --config FILE</c>: the autoscaler as a process of its own (Ray's monitor process), instead of
/// inside the head silo. It joins the cluster as an Orleans client and runs the same rounds as the head would
/// (<see cref="AutoscalerServiceCollectionExtensions.AddRayAutoscaler"/>), until Ctrl+C or SIGTERM. With the
/// LocalProcess provider the workers it starts are its own child processes, started like <c>rayo start --address</c>
/// would start them, and stopped when it stops.
/// </summary>
internal sealed class AutoscalerCommand : AsyncCommand<AutoscalerCommand.Settings>
{
    internal sealed class Settings : SessionSettings
    {
        [CommandOption("--config <FILE>")]
        [Description("The autoscaler's JSON file (node types, timings, provider), as the head's --autoscaler-config.")]
        public string? Config { get; set; }

        [CommandOption("--address <ADDRESS>")]
        [Description("The cluster address start --head printed: the head's silo IP:port, or redis://host:port. Default: this session's head.")]
        public string? Address { get; set; }

        [CommandOption("--gateway <IP:PORT>")]
        [Description("A silo's gateway to connect through (without Redis). Default: this session's head's.")]
        public string? Gateway { get; set; }

        [CommandOption("--cluster-id <ID>")]
        [Description("The cluster's id. Default: this session's head's, else rayorleans.")]
        public string? ClusterId { get; set; }

        [CommandOption("--object-store-dir <DIR>")]
        [Description("LocalProcess: the object-store folder the workers it starts use (as the head's).")]
        public string? ObjectStoreDir { get; set; }

        [CommandOption("--code-dir <DIRS>")]
        [Description("LocalProcess: folders of user code the workers it starts load (';'-separated, as the head's).")]
        public string? CodeDir { get; set; }

        [CommandOption("--connect-timeout <SECONDS>")]
        [Description("How long to try to reach the cluster before giving up. Default: 30.")]
        public double ConnectTimeout { get; set; } = 30;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Config))
        {
            throw CliException.BadInput("--config: give the autoscaler's JSON file (node types, timings, provider).");
        }

        AutoscalerOptions options;
        try
        {
            options = AutoscalerConfigFile.Load(settings.Config);
        }
        catch (ArgumentException e)
        {
            throw CliException.BadInput($"--config: {e.Message}");
        }

        var head = SessionStore.Open(settings.SessionDir).LiveHead();
        var address = settings.Address ?? head?.ClusterAddress
            ?? throw CliException.BadInput("--address: give the cluster address start --head printed (IP:port or redis://host:port); this session has no head.");
        var clusterId = settings.ClusterId ?? (head is not null && head.ClusterAddress == address ? head.ClusterId : "rayorleans");
        string? redis = null;
        IPEndPoint? gateway = null;
        var workers = new List<string> { "--cluster-id", clusterId, "--service-id", clusterId };
        if (address.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            redis = address["redis://".Length..];
            workers.AddRange(["--clustering", "redis", "--redis", redis]);
        }
        else
        {
            if (!IPEndPoint.TryParse(address, out var primary))
            {
                throw CliException.BadInput($"--address: '{address}' is neither IP:port nor redis://host:port.");
            }

            var gatewayText = settings.Gateway ?? (head is not null && head.ClusterAddress == address ? head.GatewayEndpoint : null)
                ?? throw CliException.BadInput("--gateway: give the head's gateway (IP:port) to connect through; the cluster address is its silo port.");
            if (!IPEndPoint.TryParse(gatewayText, out gateway))
            {
                throw CliException.BadInput($"--gateway: '{gatewayText}' is not IP:port.");
            }

            workers.AddRange(["--clustering", "localhost", "--primary-silo", primary.ToString(), "--advertised-ip", primary.Address.ToString()]);
        }

        if (settings.ObjectStoreDir is { } store)
        {
            workers.AddRange(["--object-store-dir", Path.GetFullPath(store)]);
        }

        if (settings.CodeDir is { } code)
        {
            workers.AddRange(["--code-dir", string.Join(';', code.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFullPath))]);
        }

        var localProcess = options.Provider == ProviderNames.LocalProcess
            ? new LocalProcessOptions
            {
                SiloPath = SiloLocator.Locate(null), DotnetPath = DotnetHost.Path, WorkerArguments = workers,
                LogDirectory = Path.Combine(Path.GetTempPath(), "rayorleans-autoscaler", $"{clusterId}-standalone-{Environment.ProcessId}"),
            }
            : null;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning).AddFilter("RayOrleans.Autoscaler", LogLevel.Information);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
            if (redis is not null)
            {
                client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            }
            else
            {
                client.UseStaticClustering(gateway!);
            }
        });
        try
        {
            builder.Services.AddRayAutoscaler(options, localProcess);
        }
        catch (ArgumentException e)
        {
            throw CliException.BadInput($"--config: {e.Message}");
        }

        using var host = builder.Build();
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connect.CancelAfter(TimeSpan.FromSeconds(settings.ConnectTimeout));
            try
            {
                await host.StartAsync(connect.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw CliException.Failure($"could not reach the cluster at '{address}' (cluster id '{clusterId}') within {settings.ConnectTimeout:0} s.");
            }
        }

        // Runs until Ctrl+C (the command's token) or SIGTERM (the host's console lifetime); stopping stops the provider's workers.
        await host.WaitForShutdownAsync(cancellationToken);
        return ExitCodes.Success;
    }
}
