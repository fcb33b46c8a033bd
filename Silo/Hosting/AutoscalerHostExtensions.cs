using RayOrleans.Autoscaler.Hosting;

namespace RayOrleans.Silo.Hosting;

/// <summary>Runs the autoscaler inside this node (the head) when <c>--autoscaler-config</c> names a file.</summary>
internal static class AutoscalerHostExtensions
{
    /// <summary>
    /// Adds the autoscaler after the silo, so it starts once the silo has joined (hosted services start in order)
    /// and stops, stopping the workers it started, while the silo still runs.
    /// </summary>
    public static WebApplicationBuilder AddRayAutoscalerIfConfigured(this WebApplicationBuilder builder, SiloHostOptions options)
    {
        if (options.ToAutoscalerOptions() is not { } autoscaler)
        {
            return builder;
        }

        // The local provider starts this same node host, with the dotnet that runs this process.
        var localProcess = autoscaler.Provider == Autoscaler.ProviderNames.LocalProcess
            ? options.ToLocalProcessOptions(typeof(SiloHostOptions).Assembly.Location, DotnetPath())
            : null;
        builder.Services.AddRayAutoscaler(autoscaler, localProcess);
        return builder;
    }

    /// <summary>This process's <c>dotnet</c> when it is one; else <c>DOTNET_HOST_PATH</c>, <c>DOTNET_ROOT/dotnet</c>, or <c>dotnet</c> from the PATH (the host run as an apphost).</summary>
    private static string DotnetPath()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && Path.Combine(root, "dotnet") is var candidate && File.Exists(candidate))
        {
            return candidate;
        }

        return "dotnet";
    }
}
