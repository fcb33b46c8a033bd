using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RayOrleans.Silo.Jobs;

/// <summary>
/// A job's driver: a child process of the head started from an argument array (no shell) in its own process
/// group, with stdout and stderr appended to the job's <see cref="JobLog"/>. Stopping it, or its exit,
/// takes down every process left in that group, so a job leaves nothing running behind it.
/// </summary>
/// <remarks>
/// The driver is started through <c>setsid</c> (util-linux), which makes it the leader of a new session and
/// process group and then execs it, keeping its process id; every process it starts joins that group unless
/// it leaves on purpose, so one <c>kill(-pgid)</c> reaches them all even after the driver itself has exited
/// (when <see cref="Process.Kill(bool)"/> can no longer find them: orphans are re-parented away from the
/// tree). Where <c>setsid</c> is missing the driver is started directly and only its process tree is killed.
/// </remarks>
internal sealed class DriverProcess : IDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private static readonly string? SetsidPath = FindExecutable("setsid", Environment.GetEnvironmentVariable("PATH"));

    private readonly Process _process;
    private readonly JobLog _log;
    private readonly TimeSpan _gracePeriod;
    private readonly bool _ownGroup;
    private readonly Task _stdout;
    private readonly Task _stderr;
    private readonly Task<int> _exited;
    private readonly DriverRecords _records;
    private long _stopDeadlineTicks; // DateTime.UtcNow ticks at which a requested stop escalates to SIGKILL; 0 while none

    private DriverProcess(Process process, JobLog log, TimeSpan gracePeriod, bool ownGroup, DriverRecords records)
    {
        _process = process;
        _records = records;
        _log = log;
        _gracePeriod = gracePeriod;
        _ownGroup = ownGroup;
        Pid = process.Id;
        _stdout = PumpAsync(process.StandardOutput.BaseStream);
        _stderr = PumpAsync(process.StandardError.BaseStream);
        _exited = MonitorAsync();
    }

    /// <summary>The driver's process id (and its process group's id).</summary>
    public int Pid { get; }

    /// <summary>
    /// The driver's exit code; completes once the driver has exited, whatever it left in its group is gone
    /// (or was killed) and its output is in the log.
    /// </summary>
    public Task<int> Exited => _exited;

    /// <summary>
    /// Starts <paramref name="entrypoint"/> in <paramref name="workingDirectory"/> with the head's environment
    /// plus <paramref name="environment"/>.
    /// </summary>
    /// <exception cref="DriverStartException">The program is not found or not executable, or the start failed; the message says which.</exception>
    public static DriverProcess Start(
        IReadOnlyList<string> entrypoint, string workingDirectory, IReadOnlyDictionary<string, string> environment, JobLog log, TimeSpan gracePeriod,
        DriverRecords records)
    {
        var path = environment.TryGetValue("PATH", out var jobPath) ? jobPath : Environment.GetEnvironmentVariable("PATH");
        var program = entrypoint[0];
        var resolved = program.Contains('/', StringComparison.Ordinal)
            ? Path.GetFullPath(Path.Combine(workingDirectory, program))
            : FindExecutable(program, path) ?? throw new DriverStartException($"'{program}' was not found on the PATH ({path}).");
        if (!File.Exists(resolved))
        {
            throw new DriverStartException($"'{program}' does not exist (looked for {resolved}).");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(resolved) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            throw new DriverStartException($"'{program}' ({resolved}) is not executable.");
        }

        var ownGroup = SetsidPath is not null;
        var start = new ProcessStartInfo(ownGroup ? SetsidPath! : resolved)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true, // an empty stdin, closed below, rather than the head's
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (ownGroup)
        {
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(resolved);
        }

        foreach (var argument in entrypoint.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new DriverStartException($"'{program}' could not be started: {e.Message}");
        }

        process.StandardInput.Close();
        if (ownGroup)
        {
            records.Add(process.Id);
        }

        return new DriverProcess(process, log, gracePeriod, ownGroup, records);
    }

    /// <summary>
    /// Stops the driver: SIGTERM to its process group, then, if anything is still running after the grace
    /// period, SIGKILL to the group and the driver's process tree. Completes when the driver has exited.
    /// </summary>
    public async Task StopAsync()
    {
        if (_exited.IsCompleted)
        {
            return;
        }

        Interlocked.CompareExchange(ref _stopDeadlineTicks, (DateTime.UtcNow + _gracePeriod).Ticks, 0);
        Signal(SigTerm);
        try
        {
            await _exited.WaitAsync(_gracePeriod);
        }
        catch (TimeoutException)
        {
            KillAll();
        }

        await _exited;
    }

    private async Task<int> MonitorAsync()
    {
        await _process.WaitForExitAsync();
        var exitCode = _process.ExitCode;
        if (_ownGroup && GroupAlive())
        {
            // The driver left processes behind (or they are still handling a stop's SIGTERM): give them the
            // rest of the grace period, then kill what remains. There is no event for "a process group became
            // empty" when its members are not our children, so this looks every 50 ms.
            var stopDeadline = Interlocked.Read(ref _stopDeadlineTicks);
            if (stopDeadline == 0)
            {
                Signal(SigTerm);
            }

            var deadline = stopDeadline == 0 ? DateTime.UtcNow + _gracePeriod : new DateTime(stopDeadline, DateTimeKind.Utc);
            while (GroupAlive() && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Signal(SigKill);
        }

        _records.Remove(Pid);

        // The pipes end when the last process holding them is gone; one that left the group on purpose may
        // keep them open, so the log stops waiting for it after a while.
        try
        {
            await Task.WhenAll(_stdout, _stderr).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            _log.AppendLine("[rayorleans] the driver's output was still open 5 s after it exited; the rest is not logged.");
        }

        return exitCode;
    }

    private async Task PumpAsync(Stream output)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await output.ReadAsync(buffer)) > 0)
            {
                _log.Append(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe was closed under the reader when the process was disposed.
        }
    }

    private void KillAll()
    {
        try
        {
            // The tree first, while the driver still links it: a descendant that made its own group is in it.
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        Signal(SigKill);
    }

    private void Signal(int signal)
    {
        // A negative pid signals the whole process group, which setsid made with the driver's pid as its id.
        if (_ownGroup)
        {
            _ = kill(-Pid, signal);
        }
        else if (!_process.HasExited)
        {
            _ = kill(Pid, signal);
        }
    }

    // Whether a live process is left in the driver's group. kill(-pgid, 0) alone also counts zombies, and an
    // orphan killed in the group stays one for as long as whoever adopted it does not reap it (a container's
    // init may never), so on Linux the group's members are read from /proc and zombies left out.
    private bool GroupAlive()
    {
        if (kill(-Pid, 0) != 0)
        {
            return false;
        }

        if (!Directory.Exists("/proc/self"))
        {
            return true;
        }

        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out _))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 4);
                if (fields[0] != "Z" && fields[2] == Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while being read.
            }
        }

        return false;
    }

    private static string? FindExecutable(string name, string? path) =>
        (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(candidate => File.Exists(candidate)
                && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0));

    /// <summary>Sends <paramref name="signal"/> to the process group <paramref name="pgid"/>; false when no such group exists.</summary>
    public static bool SignalGroup(int pgid, int signal) => kill(-pgid, signal) == 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public void Dispose() => _process.Dispose();
}
