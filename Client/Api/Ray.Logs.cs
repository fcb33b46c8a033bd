using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Logs;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans;

// Task output to the driver (Ray's log_to_driver), and loggers for task code.
public sealed partial class Ray
{
    private JobLogSubscription? _logs;

    /// <summary>
    /// A logger for code running as a task or actor: inside one, each entry goes to the job's driver (and the
    /// job's kept log) as a line <c>[Level] category: message</c> with the task's name and node; elsewhere it
    /// logs through this process's logging (the console when there is none).
    /// </summary>
    public static ILogger GetLogger(string category)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(category);
        return new TaskLogger(category, Volatile.Read(ref _driver)?._logs?.Fallback);
    }

    /// <summary>
    /// The end of a job's task and actor output as the cluster keeps it (its last 10,000 lines), oldest first;
    /// this driver's job when <paramref name="jobId"/> is null.
    /// </summary>
    public Task<JobLogTail> JobLogsAsync(string? jobId = null, int max = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return TransientRetry.ReadAsync(() => Runtime.Grains.GetGrain<IJobLogGrain>(jobId ?? JobId).TailAsync(max));
    }

    private Jobs.DriverRegistration? _registration;

    /// <summary>
    /// Registers this driver's job with the cluster (heartbeats; a lost driver's actors are cleaned up) and
    /// starts receiving its output (see <see cref="RayInitOptions.LogToDriver"/>).
    /// </summary>
    private async Task StartJobAsync(RayInitOptions options, ILoggerFactory? loggers)
    {
        _registration = new Jobs.DriverRegistration(Runtime.Grains, JobId, options.Runtime.DriverHeartbeatInterval, Runtime.OwnerReference());
        await _registration.StartAsync().ConfigureAwait(false);
        if (!options.LogToDriver)
        {
            return;
        }

        _logs = new JobLogSubscription(Runtime.Grains, JobId, options.OnTaskLog ?? PrintLine, loggers, () => Runtime.Cluster.Reported.Select(n => n.NodeId));
        await _logs.StartAsync().ConfigureAwait(false);
    }

    private static void PrintLine(LogLine line)
    {
        WorkerContext.Leave(); // printed by the driver, never taken for a task's own output
        (line.IsError ? Console.Error : Console.Out).WriteLine(line.ToString());
    }

    private async ValueTask StopJobAsync(bool abandon = false)
    {
        if (_registration is { } registration)
        {
            if (abandon)
            {
                await registration.AbandonAsync().ConfigureAwait(false);
            }
            else
            {
                await registration.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_logs is { } logs)
        {
            await logs.DisposeAsync().ConfigureAwait(false);
        }
    }
}
