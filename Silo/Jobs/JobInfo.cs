namespace RayOrleans.Silo.Jobs;

/// <summary>
/// One job as <c>GET /api/jobs/{id}</c> returns it, the fields of Ray's <c>JobDetails</c> that apply here
/// (camelCase in JSON, times in ISO 8601).
/// </summary>
/// <param name="SubmissionId">The job's id, <c>raysubmit_...</c> unless the submitter chose one.</param>
/// <param name="Status">Where it is.</param>
/// <param name="Entrypoint">The driver's command line, one argument per element (run without a shell).</param>
/// <param name="Message">A sentence on the status: why it failed, how it ended.</param>
/// <param name="StartTime">When it was submitted.</param>
/// <param name="EndTime">When it reached a terminal status; null before.</param>
/// <param name="ExitCode">The driver's exit code, once it exited; null when it never started or has not exited.</param>
/// <param name="DriverPid">The driver's process id on the head, once started.</param>
/// <param name="WorkingDir">The SHA-256 of the package the driver runs in, or null (the head's own folder).</param>
/// <param name="Metadata">What the submitter attached, as given.</param>
internal sealed record JobInfo(
    string SubmissionId,
    JobStatus Status,
    IReadOnlyList<string> Entrypoint,
    string Message,
    DateTimeOffset StartTime,
    DateTimeOffset? EndTime,
    int? ExitCode,
    int? DriverPid,
    string? WorkingDir,
    IReadOnlyDictionary<string, string> Metadata);
