namespace RayOrleans.Cli.Session;

/// <summary>One silo process this machine started, as the session records it (<c>session.json</c>).</summary>
internal sealed record SessionNode
{
    /// <summary><c>head</c> or <c>worker</c>.</summary>
    public required string Role { get; init; }

    /// <summary>The silo host's process id.</summary>
    public required int Pid { get; init; }

    /// <summary>When the process started (UTC), so a recycled pid is never taken for the node and signalled.</summary>
    public required DateTime ProcessStartTime { get; init; }

    /// <summary>The Orleans cluster id the silo joined.</summary>
    public required string ClusterId { get; init; }

    /// <summary>What a worker passes to <c>rayo start --address</c>: the primary's silo endpoint, or <c>redis://host:port</c>.</summary>
    public required string ClusterAddress { get; init; }

    /// <summary>This silo's endpoint (IP:port) for other silos.</summary>
    public required string SiloEndpoint { get; init; }

    /// <summary>This silo's gateway (IP:port), what a driver passes to <c>Ray.InitAsync</c>.</summary>
    public required string GatewayEndpoint { get; init; }

    /// <summary>This silo's HTTP endpoint (<c>http://127.0.0.1:8265</c>): the state API and, on the head, the job API.</summary>
    public required string HttpAddress { get; init; }

    /// <summary>The file the silo's stdout and stderr go to.</summary>
    public required string LogFile { get; init; }

    /// <summary>When rayo started it.</summary>
    public required DateTimeOffset Started { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsHead => Role == SessionRoles.Head;
}

/// <summary>The roles a node has in a session.</summary>
internal static class SessionRoles
{
    public const string Head = "head";
    public const string Worker = "worker";
}
