using System.Diagnostics;
using RayOrleans.Hosting;

namespace RayOrleans.Benchmarks.Cluster;

/// <summary>
/// A real cluster on this machine: a redis-server and silo host processes (<c>Silo/</c>, as built in this
/// repository) joined through Redis membership, on free loopback ports, with the calling program's folder as
/// their user code (its remote functions, actors, and grains such as the benchmark's baseline). Used by the
/// process tests and by the benchmark's <c>--silos N</c>. Everything it starts is killed on dispose.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    private ProcessCluster(int redisPort, string clusterId)
    {
        RedisPort = redisPort;
        ClusterId = clusterId;
    }

    public int RedisPort { get; }

    /// <summary>Whether the silos read each other's objects through shared memory (see <see cref="StartAsync"/>).</summary>
    public bool SameHostShm { get; private init; } = true;

    /// <summary>Whether the silos load this program's folder as user code (see <see cref="StartAsync"/>).</summary>
    public bool CodeDirectory { get; private init; } = true;

    public string ClusterId { get; }

    /// <summary>The cluster certificate the silos use (--tls-certificate), or null.</summary>
    public string? TlsCertificate { get; private init; }

    public string Address => $"redis://127.0.0.1:{RedisPort}";

    public List<(Process Process, string NodeId)> Silos { get; } = [];

    /// <summary>Each silo's HTTP port (127.0.0.1), in the order of <see cref="Silos"/>.</summary>
    public List<int> HttpPorts { get; } = [];

    /// <summary>
    /// A folder to write each process's output to (one file per process), from <c>RAYORLEANS_PROCESS_LOG_DIR</c>;
    /// null (the default) keeps the output in memory only.
    /// </summary>
    public static string? LogDirectory { get; } = Environment.GetEnvironmentVariable("RAYORLEANS_PROCESS_LOG_DIR") is { Length: > 0 } d ? Directory.CreateDirectory(d).FullName : null;

    /// <summary>The silos' object-store folder (each node process makes its own folder inside), removed at dispose.</summary>
    public string StoreDirectory { get; } = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"rayorleans-test-{Guid.NewGuid():N}");

    /// <summary>The silos' jobs folder (--jobs-dir; each silo a folder inside, named by its HTTP port), removed at dispose.</summary>
    public string JobsDirectory { get; } = Path.Combine(Path.GetTempPath(), $"rayorleans-test-jobs-{Guid.NewGuid():N}");

    /// <param name="silos">How many silo processes to start.</param>
    /// <param name="cpusPerSilo">CPUs each offers.</param>
    /// <param name="sameHostShm">
    /// Whether the silos read each other's large objects through shared memory (the default on one host) or
    /// in chunks over Orleans, as between hosts.
    /// </param>
    /// <param name="persistRedis">
    /// Whether Redis keeps its data on disk (an append-only file in a temporary folder), so that the
    /// membership table survives a restart of the server (<see cref="KillRedisAsync"/>, <see cref="StartRedisAsync"/>).
    /// </param>
    /// <param name="tlsCertificate">A cluster certificate file (.pfx, no password) the silos close the cluster with; null for plain connections.</param>
    /// <param name="codeDirectory">
    /// Whether the silos get this program's folder as their code directory (<c>--code-dir</c>); without it they
    /// run only the code drivers ship them, each unpacking it into a folder of its own (<c>--job-code-dir</c>), so a
    /// node that never unpacked a package cannot find it on disk from another silo of the test.
    /// </param>
    public static async Task<ProcessCluster> StartAsync(int silos, int cpusPerSilo, bool sameHostShm = true, bool persistRedis = false, string? tlsCertificate = null,
        bool codeDirectory = true)
    {
        var cluster = new ProcessCluster(FreePort.Next(), "proc-" + Guid.NewGuid().ToString("N")[..8])
        {
            SameHostShm = sameHostShm, TlsCertificate = tlsCertificate, CodeDirectory = codeDirectory,
        };
        try
        {
            cluster._redisArgs = $"--port {cluster.RedisPort} --bind 127.0.0.1 --save \"\" " + (persistRedis
                ? $"--appendonly yes --appendfsync always --dir \"{Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"rayorleans-redis-{cluster.ClusterId}")).FullName}\""
                : "--appendonly no");
            await cluster.StartRedisAsync();
            for (var i = 0; i < silos; i++)
            {
                await cluster.StartSiloAsync(cpusPerSilo);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <param name="cpus">CPUs the silo offers.</param>
    /// <param name="labelsJson">Its node labels as a JSON object, or null for none.</param>
    /// <param name="extraArgs">More switches of the silo host (<c>--job-stop-grace-seconds 2</c>, <c>--orleans-dashboard false</c>), or null.</param>
    public async Task StartSiloAsync(int cpus, string? labelsJson = null, string? extraArgs = null)
    {
        var codeDir = AppContext.BaseDirectory;
        var httpPort = FreePort.Next();
        var args = $"exec \"{SiloPath()}\" --clustering redis --redis 127.0.0.1:{RedisPort} --cluster-id {ClusterId} " +
                   $"--silo-port {FreePort.Next()} --gateway-port {FreePort.Next()} --http-port {httpPort} --num-cpus {cpus} " + (CodeDirectory ? $"--code-dir \"{codeDir}\" " : $"--job-code-dir \"{Path.Combine(JobsDirectory, "code-" + httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture))}\" ") +
                   $"--object-store-dir \"{StoreDirectory}\" --same-host-shm {(SameHostShm ? "true" : "false")}" +
                   (TlsCertificate is null ? "" : $" --tls-certificate \"{TlsCertificate}\"") +
                   (labelsJson is null ? "" : $" --labels \"{labelsJson.Replace("\"", "\\\"", StringComparison.Ordinal)}\"") +
                   $" --jobs-dir \"{Path.Combine(JobsDirectory, httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture))}\"" +
                   (extraArgs is null ? "" : " " + extraArgs);
        var process = Start("dotnet", args, " started: ", out var started);
        var line = await started.WaitAsync(TimeSpan.FromSeconds(60));
        // "RayOrleans node <id> started: ..."
        var nodeId = line.Split(' ')[2];
        Silos.Add((process, nodeId));
        HttpPorts.Add(httpPort);
    }

    /// <summary>kill -9 of one silo process.</summary>
    public void Kill(int silo) => Silos[silo].Process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM to one silo process: the clean shutdown a service manager asks for.</summary>
    public void Terminate(int silo)
    {
        if (kill(Silos[silo].Process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"SIGTERM to silo process {Silos[silo].Process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}.");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private readonly List<StreamWriter> _logs = [];

    private string _redisArgs = "";
    private Process? _redis;

    /// <summary>Starts the Redis server (again, on the same port and, with persistRedis, with its data).</summary>
    public async Task StartRedisAsync()
    {
        var redis = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed; eng/test.sh installs it (apt-get install redis-server).");
        _redis = Start(redis, _redisArgs, "Ready to accept connections", out var ready);
        await ready.WaitAsync(TimeSpan.FromMinutes(1));
    }

    /// <summary>Kills the Redis server (SIGKILL) and waits until it is gone.</summary>
    public async Task KillRedisAsync()
    {
        _redis!.Kill(entireProcessTree: true);
        await _redis.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    private Process Start(string file, string arguments, string readyText, out Task<string> ready)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            },
            EnableRaisingEvents = true,
        };
        var log = new System.Text.StringBuilder();
        // RAYORLEANS_PROCESS_LOG_DIR keeps every process's output in a file of its own (a failure under load is
        // read there afterwards); otherwise it is only kept to explain a process that exits before it is ready.
        var writer = LogDirectory is { } dir
            ? new StreamWriter(Path.Combine(dir, $"{DateTime.UtcNow:HHmmss.fff}-{Path.GetFileName(file)}-{Guid.NewGuid():N}.log"), append: false) { AutoFlush = true }
            : null;
        if (writer is not null)
        {
            _logs.Add(writer);
        }

        void OnLine(string? text)
        {
            if (text is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(text);
            }

            if (writer is not null)
            {
                try
                {
                    lock (writer)
                    {
                        writer.WriteLine(text);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // A line after the cluster was disposed.
                }
            }

            if (text.Contains(readyText, StringComparison.Ordinal))
            {
                seen.TrySetResult(text);
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) =>
        {
            lock (log)
            {
                seen.TrySetException(new InvalidOperationException($"{file} exited with {process.ExitCode} before it was ready:\n{log}"));
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        ready = seen.Task;
        return process;
    }

    private static string SiloPath()
    {
        // <project folder>/<project>/bin/<Configuration>/net10.0/ (the tests' or the benchmark's) -> Silo/bin/<Configuration>/net10.0/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent!.Name;
        var root = here.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "Silo", "bin", configuration, framework, "RayOrleans.Silo.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The silo host is not built at {path}: dotnet build Silo -c {configuration}.");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception)
            {
                // Already gone.
            }

            process.Dispose();
        }

        if (Directory.Exists(StoreDirectory))
        {
            Directory.Delete(StoreDirectory, recursive: true);
        }

        if (Directory.Exists(JobsDirectory))
        {
            Directory.Delete(JobsDirectory, recursive: true);
        }

        var redisData = Path.Combine(Path.GetTempPath(), $"rayorleans-redis-{ClusterId}");
        if (Directory.Exists(redisData))
        {
            Directory.Delete(redisData, recursive: true);
        }

        foreach (var writer in _logs)
        {
            lock (writer)
            {
                writer.Dispose(); // a line that comes after is dropped
            }
        }
    }
}
