using Microsoft.Extensions.Logging;

namespace RayOrleans.Silo.Jobs;

internal sealed partial class JobSupervisor
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Job {SubmissionId}: driver process {Pid} started: {Entrypoint}")]
        public static partial void DriverStarted(ILogger logger, string submissionId, int pid, string entrypoint);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {SubmissionId}: the driver could not be started: {Reason}")]
        public static partial void DriverStartFailed(ILogger logger, string submissionId, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {SubmissionId} ended {Status}, driver exit code {ExitCode}")]
        public static partial void JobFinished(ILogger logger, string submissionId, string status, int exitCode);
    }
}
