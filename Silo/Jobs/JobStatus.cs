namespace RayOrleans.Silo.Jobs;

/// <summary>
/// Where a submitted job is, as Ray's <c>JobStatus</c>; written in JSON as Ray writes it (<c>PENDING</c>,
/// <c>RUNNING</c>, <c>SUCCEEDED</c>, <c>FAILED</c>, <c>STOPPED</c>). It only moves forward: pending to
/// running to one of the three terminal states (or from pending straight to failed or stopped).
/// </summary>
internal enum JobStatus
{
    /// <summary>Submitted; the driver is not started yet.</summary>
    Pending,

    /// <summary>The driver process is running.</summary>
    Running,

    /// <summary>The driver exited with code 0.</summary>
    Succeeded,

    /// <summary>The driver exited with another code, or could not be started.</summary>
    Failed,

    /// <summary>Stopped on request (or by the head shutting down); the driver's processes were killed.</summary>
    Stopped,
}

/// <summary>Queries on <see cref="JobStatus"/>.</summary>
internal static class JobStatusExtensions
{
    /// <summary>True for the states a job never leaves.</summary>
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Stopped;

    /// <summary>The status as Ray writes it: <c>RUNNING</c>.</summary>
    public static string ToRayString(this JobStatus status) => status.ToString().ToUpperInvariant();
}
