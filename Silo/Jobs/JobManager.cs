using RayOrleans.Grains;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace RayOrleans.Silo.Jobs;

/// <summary>
/// The head node's jobs, as Ray's <c>JobManager</c>: takes submissions, runs each driver under a
/// <see cref="JobSupervisor"/>, answers for their status and logs, stops them, and, as a hosted service,
/// stops every running driver (its whole process group) when the host shuts down, so none outlives it.
/// </summary>
/// <remarks>
/// Jobs are kept in this process's memory: a restarted head knows only the jobs submitted to it since.
/// Registered after the silo, so it is stopped before it: drivers see their cluster until they are gone.
/// </remarks>
internal sealed partial class JobManager : IHostedService, IDisposable
{
    /// <summary>The environment variable that tells a driver its job's submission id.</summary>
    public const string JobIdVariable = "RAYORLEANS_JOB_ID";

    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private readonly ConcurrentDictionary<string, JobSupervisor> _jobs = new(StringComparer.Ordinal);
    private readonly object _submitGate = new();
    private readonly JobOptions _options;
    private readonly ILogger<JobManager> _logger;
    private readonly string _logFolder;
    private readonly DriverRecords _records;
    private readonly IGrainFactory _grains;
    private bool _shuttingDown;

    public JobManager(JobOptions options, PackageStore packages, IGrainFactory grains, ILogger<JobManager> logger)
    {
        _grains = grains;
        _options = options;
        _logger = logger;
        Packages = packages;
        _logFolder = Path.Combine(Path.GetFullPath(options.JobsDirectory), "logs");
        Directory.CreateDirectory(_logFolder);
        _records = new DriverRecords(Path.Combine(Path.GetFullPath(options.JobsDirectory), "drivers"));
    }

    /// <summary>The packages jobs run in.</summary>
    public PackageStore Packages { get; }

    /// <summary>
    /// Accepts a job and starts its driver in the background; returns it as submitted (pending).
    /// </summary>
    /// <exception cref="InvalidJobRequestException">The request is invalid; the message names what is wrong.</exception>
    /// <exception cref="HeadShuttingDownException">The head is shutting down.</exception>
    public JobInfo Submit(JobSubmitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Entrypoint is not { Length: > 0 } entrypoint || string.IsNullOrWhiteSpace(entrypoint[0]))
        {
            throw new InvalidJobRequestException("entrypoint must be a non-empty array whose first element names the program, e.g. [\"dotnet\", \"MyDriver.dll\"].");
        }

        if (entrypoint.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            throw new InvalidJobRequestException("entrypoint must not contain null elements or NUL characters.");
        }

        string workingDirectory = Environment.CurrentDirectory;
        string? workingDir = null;
        if (request.WorkingDir is { } sha256)
        {
            if (!PackageStore.IsSha256(sha256))
            {
                throw new InvalidJobRequestException($"workingDir '{sha256}' is not a package's SHA-256 (64 hex digits); upload the package with PUT /api/packages/{{sha256}} first.");
            }

            if (!Packages.Contains(sha256))
            {
                throw new InvalidJobRequestException($"workingDir names the package {sha256}, which this head does not have; upload it with PUT /api/packages/{sha256} first.");
            }

            workingDir = sha256.ToLowerInvariant();
            workingDirectory = Packages.UnpackedPath(workingDir);
        }

        var environment = new Dictionary<string, string>(_options.DriverEnvironment, StringComparer.Ordinal);
        foreach (var (name, value) in request.Env ?? [])
        {
            if (string.IsNullOrEmpty(name) || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidJobRequestException($"env: '{name}' is not an environment variable name.");
            }

            if (name == JobIdVariable)
            {
                throw new InvalidJobRequestException($"env: {JobIdVariable} is set by the head to the submission id.");
            }

            environment[name] = value ?? throw new InvalidJobRequestException($"env: '{name}' has no value (null).");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Metadata ?? [])
        {
            metadata[key] = value ?? throw new InvalidJobRequestException($"metadata: '{key}' has no value (null); values are strings.");
        }

        JobSupervisor job;
        lock (_submitGate)
        {
            if (_shuttingDown)
            {
                throw new HeadShuttingDownException();
            }

            var id = request.SubmissionId;
            if (id is null)
            {
                do
                {
                    id = "raysubmit_" + RandomNumberGenerator.GetString(IdAlphabet, 16);
                }
                while (_jobs.ContainsKey(id));
            }
            else if (!SubmissionIdPattern().IsMatch(id))
            {
                throw new InvalidJobRequestException($"submissionId '{id}' is not valid: use 1 to 128 letters, digits, '_', '-' or '.', starting with a letter or digit.");
            }
            else if (_jobs.ContainsKey(id))
            {
                throw new InvalidJobRequestException($"submissionId '{id}' is already taken by another job.");
            }

            environment[JobIdVariable] = id;
            var info = new JobInfo(id, JobStatus.Pending, entrypoint, "Job is pending: its driver is being started.",
                DateTimeOffset.UtcNow, EndTime: null, ExitCode: null, DriverPid: null, workingDir, metadata);
            job = new JobSupervisor(info, workingDirectory, environment, new JobLog(Path.Combine(_logFolder, id + ".log")), _options.StopGracePeriod, _records, _logger);
            _jobs[id] = job;
        }

        Log.JobSubmitted(_logger, job.SubmissionId, string.Join(' ', entrypoint), workingDir ?? workingDirectory);
        _ = Task.Run(async () =>
        {
            await job.RunAsync();
            await EndJobAsync(job);
            ForgetOldJobs();
        });
        return job.Info;
    }

    /// <summary>
    /// The job's driver is gone, whatever its status: what the job started goes with it (its non-detached actors
    /// are killed, the nodes unload its code), as Ray ends a job's actors with the job. A driver that exited
    /// cleanly has done this already; this makes it so for one that failed, was stopped, or never disposed.
    /// </summary>
    private async Task EndJobAsync(JobSupervisor job)
    {
        var info = job.Info;
        try
        {
            await _grains.GetGrain<IJobRegistryGrain>(0).StopAsync(info.SubmissionId, $"job {info.SubmissionId} ended: {info.Message}")
                .WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            Log.JobCleanupFailed(_logger, info.SubmissionId, e.Message);
        }
    }

    /// <summary>Every job known, oldest submission first.</summary>
    public IReadOnlyList<JobInfo> List() => [.. _jobs.Values.Select(j => j.Info).OrderBy(j => j.StartTime)];

    /// <summary>The job, or null when no job has that id (or it was forgotten).</summary>
    public JobSupervisor? Find(string submissionId) => _jobs.GetValueOrDefault(submissionId);

    /// <summary>Kills the drivers a previous head on this jobs folder left running when it died without stopping them.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var pid in _records.KillLeftovers())
        {
            Log.KilledLeftoverDriver(_logger, pid);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops every running driver (SIGTERM, SIGKILL after the grace period) and waits for them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_submitGate)
        {
            _shuttingDown = true;
        }

        var running = _jobs.Values.Where(j => !j.Info.Status.IsTerminal()).ToList();
        if (running.Count > 0)
        {
            Log.StoppingJobs(_logger, running.Count);
        }

        await Task.WhenAll(running.Select(j => j.StopAsync()));
    }

    // Keeps the newest MaxFinishedJobs finished jobs; an older one is forgotten and its log deleted.
    private void ForgetOldJobs()
    {
        var finished = _jobs.Values.Select(j => (Job: j, Info: j.Info)).Where(j => j.Info.Status.IsTerminal()).ToList();
        foreach (var (job, _) in finished.OrderByDescending(j => j.Info.EndTime).Skip(_options.MaxFinishedJobs))
        {
            if (_jobs.TryRemove(new KeyValuePair<string, JobSupervisor>(job.SubmissionId, job)))
            {
                job.Output.Delete();
                job.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var job in _jobs.Values)
        {
            job.Output.Dispose();
            job.Dispose();
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex SubmissionIdPattern();
}
