namespace RayOrleans.Silo.Jobs;

/// <summary>
/// How the head node runs submitted jobs (Ray's job submission server): where it keeps uploaded packages and
/// driver logs, how long a stopped driver gets to exit, and what it accepts. Set from the host's
/// <c>--jobs-dir</c>, <c>--job-stop-grace-seconds</c>, <c>--max-package-size</c>,
/// <c>--max-unpacked-package-size</c> and <c>--max-finished-jobs</c>.
/// </summary>
internal sealed class JobOptions
{
    /// <summary>
    /// Folder of the jobs: <c>packages/</c> (each uploaded zip and its unpacked folder, named by SHA-256) and
    /// <c>logs/</c> (one file per driver). Default: <see cref="DefaultJobsDirectory"/>, a folder under the
    /// temporary folder per cluster id and HTTP port, so two heads on one machine never share one.
    /// </summary>
    public string JobsDirectory { get; set; } = DefaultJobsDirectory("rayorleans", 8265);

    /// <summary>
    /// How long a driver (and the processes it started) may take to exit after SIGTERM before the whole
    /// process group gets SIGKILL. Default 5 s, as Ray's job stop. At least zero.
    /// </summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest package (zip) accepted by <c>PUT /api/packages/{sha256}</c>, in bytes. Default 512 MiB (Ray
    /// refuses working directories over 500 MiB). More than zero.
    /// </summary>
    public long MaxPackageBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Largest total size of a package's files once unpacked, in bytes, counted as they are written, so a
    /// zip bomb (or an entry whose declared size lies) is stopped at this size. Default 2 GiB. More than zero.
    /// </summary>
    public long MaxUnpackedPackageBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// How many finished jobs (succeeded, failed, stopped) are remembered, with their logs; beyond it the
    /// oldest finished one is forgotten and its log deleted. Running jobs are always kept. Default 1000. At least 1.
    /// </summary>
    public int MaxFinishedJobs { get; set; } = 1000;

    /// <summary>
    /// Variables every driver gets, before the job's own <c>env</c>: the host sets <c>RAY_ADDRESS</c> (what a
    /// driver passes to <c>Ray.InitAsync</c> to join this cluster), <c>RAYORLEANS_CLUSTER_ID</c> and
    /// <c>RAYORLEANS_SERVICE_ID</c>. Default empty.
    /// </summary>
    public Dictionary<string, string> DriverEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>The default <see cref="JobsDirectory"/>: <c>$TMPDIR/rayorleans-jobs/{clusterId}-{httpPort}</c>.</summary>
    public static string DefaultJobsDirectory(string clusterId, int httpPort) =>
        Path.Combine(Path.GetTempPath(), "rayorleans-jobs", $"{clusterId}-{httpPort}");

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(JobsDirectory))
        {
            throw new ArgumentException("The jobs folder must not be empty.", nameof(JobsDirectory));
        }

        if (StopGracePeriod < TimeSpan.Zero)
        {
            throw new ArgumentException($"The stop grace period is {StopGracePeriod}; expected zero or more.", nameof(StopGracePeriod));
        }

        if (MaxPackageBytes <= 0)
        {
            throw new ArgumentException($"The largest package is {MaxPackageBytes} bytes; expected more than 0.", nameof(MaxPackageBytes));
        }

        if (MaxUnpackedPackageBytes <= 0)
        {
            throw new ArgumentException($"The largest unpacked package is {MaxUnpackedPackageBytes} bytes; expected more than 0.", nameof(MaxUnpackedPackageBytes));
        }

        if (MaxFinishedJobs < 1)
        {
            throw new ArgumentException($"{MaxFinishedJobs} finished jobs kept; expected at least 1.", nameof(MaxFinishedJobs));
        }
    }
}
