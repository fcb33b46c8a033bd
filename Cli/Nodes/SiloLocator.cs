namespace RayOrleans.Cli.Nodes;

/// <summary>
/// Finds the silo host (<c>RayOrleans.Silo.dll</c>, the <c>Silo/</c> project) that <c>rayo start</c> runs.
/// </summary>
/// <remarks>
/// rayo carries the silo host with it: Cli.csproj copies the Silo project's whole build output into a
/// <c>silo/</c> folder of rayo's own output, and adds it to the publish output that <c>dotnet pack</c> puts in
/// the tool package. So the repo build (<c>dotnet Cli/bin/Release/net10.0/rayo.dll</c>), the plain
/// executable and the installed tool all find it at the same place relative to rayo.dll, and a node always
/// runs the silo built with this rayo, never a stale or foreign one found by searching. <c>--silo-path</c> or
/// <c>RAYO_SILO_PATH</c> (the dll, or the folder holding it) overrides that, for a host built elsewhere.
/// </remarks>
internal static class SiloLocator
{
    /// <summary>The environment variable that names the silo host.</summary>
    public const string EnvironmentVariable = "RAYO_SILO_PATH";

    private const string SiloDll = "RayOrleans.Silo.dll";

    /// <summary>The silo host's dll; throws naming what was looked for when it is not there.</summary>
    public static string Locate(string? explicitPath)
    {
        var requested = !string.IsNullOrWhiteSpace(explicitPath) ? (Source: "--silo-path", Path: explicitPath)
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? (Source: EnvironmentVariable, Path: fromEnvironment)
            : default;
        if (requested.Path is not null)
        {
            var path = Path.GetFullPath(requested.Path);
            var dll = Directory.Exists(path) ? Path.Combine(path, SiloDll) : path;
            return File.Exists(dll) && dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? dll
                : throw CliException.BadInput($"{requested.Source}: '{requested.Path}' is neither {SiloDll} nor a folder holding it.");
        }

        var carried = Path.Combine(AppContext.BaseDirectory, "silo", SiloDll);
        return File.Exists(carried)
            ? carried
            : throw CliException.Failure($"the silo host is not at {carried}; build the Cli project (dotnet build Cli -c Release), or set --silo-path / {EnvironmentVariable}.");
    }
}
