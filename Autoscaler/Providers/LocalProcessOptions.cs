namespace RayOrleans.Autoscaler.Providers;

/// <summary>
/// How the local provider starts worker silos: the node host it runs and the switches every worker gets. The head
/// fills these in from its own settings (same cluster, membership, advertised address, object-store folder and code
/// folders), so a worker joins the head's cluster as <c>rayo start --address</c> would make it.
/// </summary>
public sealed class LocalProcessOptions
{
    /// <summary>The node host, <c>RayOrleans.Silo.dll</c>. Required.</summary>
    public string SiloPath { get; set; } = "";

    /// <summary>The <c>dotnet</c> executable that runs it. Default <c>dotnet</c> from the PATH.</summary>
    public string DotnetPath { get; set; } = "dotnet";

    /// <summary>
    /// Switches every worker gets before its own (<c>--cluster-id</c>, <c>--clustering</c>, <c>--redis</c> or
    /// <c>--primary-silo</c>, ...). The provider adds the ports (free ones), the resources of the node type and the
    /// labels (<see cref="AutoscalerLabels"/>).
    /// </summary>
    public List<string> WorkerArguments { get; set; } = [];

    /// <summary>Folder of the workers' logs, one file per worker. Default <c>$TMPDIR/rayorleans-autoscaler</c>.</summary>
    public string LogDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "rayorleans-autoscaler");

    /// <summary>
    /// Time a worker gets between SIGTERM (the silo leaves the membership and stops its grains) and SIGKILL.
    /// Default 30 s, the host's own shutdown timeout. From 0 to 10 min.
    /// </summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(SiloPath) || !File.Exists(SiloPath))
        {
            throw new ArgumentException($"LocalProcess: the node host '{SiloPath}' does not exist.");
        }

        if (StopGracePeriod < TimeSpan.Zero || StopGracePeriod > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"LocalProcess: StopGracePeriod {StopGracePeriod} is not from 0 to 10 min.");
        }
    }
}
