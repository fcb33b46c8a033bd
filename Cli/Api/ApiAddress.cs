using RayOrleans.Cli.Session;

namespace RayOrleans.Cli.Api;

/// <summary>
/// The HTTP address of the node whose API a command talks to (Ray's dashboard address,
/// <c>http://127.0.0.1:8265</c>): <c>--address</c>, else <c>RAYO_ADDRESS</c>, else the live head this
/// machine's session started (or any live node of it), else Ray's default port on this machine.
/// </summary>
internal static class ApiAddress
{
    /// <summary>The environment variable a script sets instead of passing <c>--address</c>.</summary>
    public const string EnvironmentVariable = "RAYO_ADDRESS";

    /// <summary>The address when nothing names one: Ray's dashboard port on this machine.</summary>
    public const string Default = "http://127.0.0.1:8265";

    public static Uri Resolve(string? explicitAddress, string? sessionDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitAddress))
        {
            return Parse(explicitAddress, "--address");
        }

        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return Parse(fromEnvironment, EnvironmentVariable);
        }

        var nodes = SessionStore.Open(sessionDirectory).Read().Where(Nodes.NodeProcesses.IsAlive).ToList();
        var node = nodes.FirstOrDefault(n => n.IsHead) ?? nodes.FirstOrDefault();
        return new Uri(node?.HttpAddress ?? Default);
    }

    /// <summary>
    /// <c>http://host:port</c>, <c>https://...</c>, or a bare <c>host:port</c> taken as http; a cluster address
    /// (<c>redis://</c>) is refused with what to give instead.
    /// </summary>
    public static Uri Parse(string address, string source)
    {
        var text = address.Trim();
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            throw CliException.BadInput($"{source}: '{address}' is a cluster address; give the head's HTTP address, such as {Default}.");
        }

        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0
            ? new Uri(uri.GetLeftPart(UriPartial.Authority))
            : throw CliException.BadInput($"{source}: '{address}' is not an HTTP address like {Default}.");
    }
}
