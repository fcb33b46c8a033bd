using Microsoft.Extensions.Logging;

namespace RayOrleans.Silo.Jobs;

internal sealed partial class JobManager
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Job {SubmissionId} submitted: {Entrypoint} in {WorkingDir}")]
        public static partial void JobSubmitted(ILogger logger, string submissionId, string entrypoint, string workingDir);

        [LoggerMessage(Level = LogLevel.Information, Message = "Stopping {Count} running job(s): the host is shutting down")]
        public static partial void StoppingJobs(ILogger logger, int count);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Killed driver process group {Pid}, left running by a previous head on this jobs folder")]
        public static partial void KilledLeftoverDriver(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {SubmissionId} ended, but ending what it started failed ({Reason}): its actors are left to the driver heartbeat timeout")]
        public static partial void JobCleanupFailed(ILogger logger, string submissionId, string reason);
    }
}
