namespace RayOrleans.Cli.Nodes;

/// <summary>The <c>dotnet</c> executable that runs framework-dependent apps (the silo host, the benchmark program).</summary>
internal static class DotnetHost
{
    /// <summary>
    /// The host running rayo when it is <c>dotnet rayo.dll</c>; else <c>DOTNET_HOST_PATH</c> (set by the SDK),
    /// <c>DOTNET_ROOT/dotnet</c>, or <c>dotnet</c> from the PATH (rayo run as a tool or apphost).
    /// </summary>
    public static string Path
    {
        get
        {
            var self = Environment.ProcessPath;
            if (self is not null && System.IO.Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                return self;
            }

            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
            {
                return hostPath;
            }

            if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root)
            {
                var candidate = System.IO.Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return "dotnet";
        }
    }
}
