using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RayOrleans.Messages;

namespace RayOrleans.Autoscaler.Providers;

/// <summary>
/// Starts and stops worker silos as processes on this machine (Ray's local node provider): <c>dotnet
/// RayOrleans.Silo.dll</c> with the head's cluster switches, free loopback ports, the node type's resources and the
/// autoscaler's labels; its output goes to a log file of its own. Stopping is SIGTERM (the silo leaves the
/// membership gracefully), then SIGKILL after <see cref="LocalProcessOptions.StopGracePeriod"/>. The workers are
/// children of this process, so whatever kills the head's process tree takes them too; disposing stops them.
/// </summary>
internal sealed partial class LocalProcessProvider : INodeProvider
{
    private const int SigTerm = 15;

    private readonly LocalProcessOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private int _disposed;

    public LocalProcessProvider(LocalProcessOptions options, ILogger<LocalProcessProvider> logger)
    {
        options.Validate();
        _options = options;
        _logger = logger;
        Directory.CreateDirectory(options.LogDirectory);
    }

    public string Name => ProviderNames.LocalProcess;

    public Task<IReadOnlyList<ProviderInstance>> ListAsync(CancellationToken cancellationToken)
    {
        var instances = new List<ProviderInstance>();
        lock (_gate)
        {
            foreach (var (id, worker) in _workers.ToList())
            {
                if (worker.Stopping is { IsCompleted: true })
                {
                    _workers.Remove(id); // stopped as asked: gone
                    worker.Process.Dispose();
                    continue;
                }

                var failure = worker.Process.HasExited
                    ? $"the process (pid {worker.Process.Id}) exited with code {worker.Process.ExitCode}{LastError(worker.LogFile)} (log: {worker.LogFile})"
                    : null;
                instances.Add(new ProviderInstance(id, worker.NodeType, worker.Stopping is not null, failure));
            }
        }

        return Task.FromResult<IReadOnlyList<ProviderInstance>>(instances);
    }

    public Task LaunchAsync(NodeType type, int count, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        for (var i = 0; i < count; i++)
        {
            // Short enough to read in the status, random enough never to repeat within a head's life.
            var id = $"{type.Name}-{Guid.NewGuid().ToString("N")[..10]}";
            var logFile = Path.Combine(_options.LogDirectory, $"{id}.log");
            var process = Start(Arguments(type, id), logFile);
            lock (_gate)
            {
                _workers[id] = new Worker(type.Name, process, logFile);
            }

            LogLaunched(_logger, id, process.Id, logFile);
        }

        return Task.CompletedTask;
    }

    public Task TerminateAsync(IReadOnlyList<ProviderInstance> instances, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var instance in instances)
            {
                if (!_workers.TryGetValue(instance.InstanceId, out var worker))
                {
                    continue;
                }

                if (worker.Process.HasExited)
                {
                    _workers.Remove(instance.InstanceId); // a failed one: forgotten
                    worker.Process.Dispose();
                }
                else
                {
                    worker.Stopping ??= StopAsync(instance.InstanceId, worker);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops every worker it started (the head is shutting down) and waits for them, within their grace period.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        List<Task> stopping;
        lock (_gate)
        {
            foreach (var (id, worker) in _workers)
            {
                if (!worker.Process.HasExited)
                {
                    worker.Stopping ??= StopAsync(id, worker);
                }
            }

            stopping = _workers.Values.Select(w => w.Stopping).OfType<Task>().ToList();
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);
    }

    private async Task StopAsync(string id, Worker worker)
    {
        var process = worker.Process;
        try
        {
            if (OperatingSystem.IsWindows() || SendSignal(process.Id, SigTerm) != 0)
            {
                process.Kill(entireProcessTree: true);
            }

            try
            {
                await process.WaitForExitAsync().WaitAsync(_options.StopGracePeriod).ConfigureAwait(false);
                LogStopped(_logger, id, process.ExitCode);
            }
            catch (TimeoutException)
            {
                LogKilled(_logger, id, _options.StopGracePeriod.TotalSeconds);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited (and was reaped) between the check and the signal.
        }
    }

    private List<string> Arguments(NodeType type, string id)
    {
        var ports = FreePorts.Take(3);
        var arguments = new List<string>(_options.WorkerArguments)
        {
            "--silo-port", Invariant(ports[0]), "--gateway-port", Invariant(ports[1]), "--http-port", Invariant(ports[2]),
            // Always explicit: a type without CPUs or GPUs offers none, not the machine's count.
            "--num-cpus", Invariant(type.Resources[ResourceSet.Cpu]), "--num-gpus", Invariant(type.Resources[ResourceSet.Gpu]),
        };
        if (type.Resources[ResourceSet.Memory] > 0)
        {
            arguments.AddRange(["--memory", Invariant(Math.Floor(type.Resources[ResourceSet.Memory]))]);
        }

        var custom = type.Resources.Amounts.Where(a => a.Key is not (ResourceSet.Cpu or ResourceSet.Gpu or ResourceSet.Memory)).ToDictionary();
        if (custom.Count > 0)
        {
            arguments.AddRange(["--resources", JsonSerializer.Serialize(custom)]);
        }

        arguments.AddRange(["--labels", JsonSerializer.Serialize(new Dictionary<string, string> { [AutoscalerLabels.NodeType] = type.Name, [AutoscalerLabels.Instance] = id })]);
        return arguments;
    }

    /// <summary>
    /// <c>dotnet exec RayOrleans.Silo.dll ARGS</c> with its output appended to <paramref name="logFile"/>: a shell
    /// redirects and then <c>exec</c>s the host, so the returned process is the silo itself (its pid is the silo's,
    /// and it is this process's child, so its exit code is known here).
    /// </summary>
    private Process Start(List<string> arguments, string logFile)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(_options.SiloPath)! };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null");
        start.ArgumentList.Add("rayorleans-worker"); // $0
        start.ArgumentList.Add(logFile);
        start.ArgumentList.Add(_options.DotnetPath);
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(_options.SiloPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("The worker silo process did not start.");
    }

    /// <summary>The silo's own <c>error: ...</c> line, if its log has one.</summary>
    private static string LastError(string logFile)
    {
        try
        {
            using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var error = reader.ReadToEnd().Split('\n').LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal));
            return error is null ? "" : $": {error.Trim()}";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class Worker(string nodeType, Process process, string logFile)
    {
        public string NodeType { get; } = nodeType;

        public Process Process { get; } = process;

        public string LogFile { get; } = logFile;

        /// <summary>The stop under way, once asked.</summary>
        public Task? Stopping { get; set; }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started worker {InstanceId} (pid {Pid}), log {LogFile}.")]
    private static partial void LogLaunched(ILogger logger, string instanceId, int pid, string logFile);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {InstanceId} stopped with code {ExitCode}.")]
    private static partial void LogStopped(ILogger logger, string instanceId, int exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {InstanceId} did not stop within {GraceSeconds} s of SIGTERM: killed.")]
    private static partial void LogKilled(ILogger logger, string instanceId, double graceSeconds);
}
