using Microsoft.Extensions.Logging;

namespace RayOrleans.Silo.Jobs;

/// <summary>
/// One submitted job, as Ray's <c>JobSupervisor</c> actor: starts its driver, follows it to its end and
/// records the status, exit code and log. Its status only moves forward (see <see cref="JobStatus"/>).
/// </summary>
internal sealed partial class JobSupervisor : IDisposable
{
    private readonly object _gate = new();
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string _workingDirectory;
    private readonly TimeSpan _gracePeriod;
    private readonly ILogger _logger;
    private readonly DriverRecords _records;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JobInfo _info;
    private DriverProcess? _driver;
    private bool _stopRequested;

    /// <param name="info">The job as submitted (pending).</param>
    /// <param name="workingDirectory">The driver's current folder: the unpacked package, or the head's own folder.</param>
    /// <param name="environment">Variables set on top of the head's environment.</param>
    /// <param name="output">Where the driver's stdout and stderr go.</param>
    /// <param name="gracePeriod">Time between SIGTERM and SIGKILL on a stop.</param>
    /// <param name="records">Where running drivers are recorded for a later head to clear.</param>
    /// <param name="logger">The head's log.</param>
    public JobSupervisor(
        JobInfo info, string workingDirectory, IReadOnlyDictionary<string, string> environment, JobLog output, TimeSpan gracePeriod,
        DriverRecords records, ILogger logger)
    {
        _records = records;
        _info = info;
        _workingDirectory = workingDirectory;
        _environment = environment;
        Output = output;
        _gracePeriod = gracePeriod;
        _logger = logger;
    }

    /// <summary>The job's id.</summary>
    public string SubmissionId => _info.SubmissionId;

    /// <summary>The driver's combined stdout and stderr.</summary>
    public JobLog Output { get; }

    /// <summary>The job now.</summary>
    public JobInfo Info
    {
        get
        {
            lock (_gate)
            {
                return _info;
            }
        }
    }

    /// <summary>Completes when the job is in a terminal state, its log complete.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Starts the driver and follows it to its end; never throws (a failure is the job's status).</summary>
    public async Task RunAsync()
    {
        lock (_gate)
        {
            if (_stopRequested)
            {
                Finish(JobStatus.Stopped, "Job was stopped before its driver started.", exitCode: null);
                return;
            }
        }

        DriverProcess driver;
        try
        {
            driver = DriverProcess.Start(_info.Entrypoint, _workingDirectory, _environment, Output, _gracePeriod, _records);
        }
        catch (DriverStartException e)
        {
            Output.AppendLine($"[rayorleans] the driver could not be started: {e.Message}");
            Log.DriverStartFailed(_logger, SubmissionId, e.Message);
            lock (_gate)
            {
                Finish(JobStatus.Failed, $"The driver could not be started: {e.Message}", exitCode: null);
            }

            return;
        }

        bool stopNow;
        lock (_gate)
        {
            _driver = driver;
            _info = _info with { Status = JobStatus.Running, DriverPid = driver.Pid, Message = $"Job is running: driver process {driver.Pid}." };
            stopNow = _stopRequested;
        }

        Log.DriverStarted(_logger, SubmissionId, driver.Pid, string.Join(' ', _info.Entrypoint));
        if (stopNow)
        {
            _ = driver.StopAsync();
        }

        int exitCode;
        try
        {
            exitCode = await driver.Exited;
        }
        catch (Exception e)
        {
            // The log could not be written (a full disk): the job must still end, not stay running forever.
            lock (_gate)
            {
                Finish(JobStatus.Failed, $"The driver's output could not be kept: {e.Message}", exitCode: null);
            }

            return;
        }

        lock (_gate)
        {
            if (_stopRequested)
            {
                Finish(JobStatus.Stopped, $"Job was stopped; the driver exited with code {exitCode}.", exitCode);
            }
            else if (exitCode == 0)
            {
                Finish(JobStatus.Succeeded, "Job finished successfully.", exitCode);
            }
            else
            {
                Finish(JobStatus.Failed, $"The driver exited with code {exitCode}.", exitCode);
            }
        }

        Log.JobFinished(_logger, SubmissionId, _info.Status.ToRayString(), exitCode);
    }

    /// <summary>
    /// Stops the job: a pending one never starts, a running one's driver and the processes it started are
    /// terminated (SIGTERM, SIGKILL after the grace period). Returns false when the job had already ended;
    /// otherwise completes once it is <see cref="JobStatus.Stopped"/>.
    /// </summary>
    public async Task<bool> StopAsync()
    {
        DriverProcess? driver;
        lock (_gate)
        {
            if (_info.Status.IsTerminal())
            {
                return false;
            }

            _stopRequested = true;
            driver = _driver;
        }

        // Without a driver yet, RunAsync sees the request before or right after starting it.
        if (driver is not null)
        {
            await driver.StopAsync();
        }

        await Finished;
        return true;
    }

    // Under _gate. The status is set before the log is completed, so a reader the completion wakes sees the end.
    private void Finish(JobStatus status, string message, int? exitCode)
    {
        _info = _info with { Status = status, Message = message, ExitCode = exitCode, EndTime = DateTimeOffset.UtcNow };
        Output.Complete();
        _driver?.Dispose();
        _finished.TrySetResult();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _driver?.Dispose();
        }
    }
}
