namespace RayOrleans.Cli.Jobs;

/// <summary>The job API's status strings (Ray's JobStatus).</summary>
internal static class JobStatuses
{
    public const string Pending = "PENDING";
    public const string Running = "RUNNING";
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";
    public const string Stopped = "STOPPED";

    /// <summary>Whether the job has ended (nothing more will be logged).</summary>
    public static bool IsTerminal(string? status) => status is Succeeded or Failed or Stopped;
}
