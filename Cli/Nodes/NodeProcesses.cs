using System.Diagnostics;
using System.Runtime.InteropServices;
using RayOrleans.Cli.Session;

namespace RayOrleans.Cli.Nodes;

/// <summary>Looks at and signals the silo processes a session recorded, by pid and start time.</summary>
internal static partial class NodeProcesses
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary>
    /// Whether the recorded process still runs: the pid exists, is not a zombie (a silo orphaned by its rayo
    /// is reaped by init, which in a container may never do it), and started when the session says it did,
    /// so a pid recycled by an unrelated process is never taken for the node.
    /// </summary>
    public static bool IsAlive(SessionNode node) =>
        StartTimeOf(node.Pid) is { } started && Math.Abs((started - node.ProcessStartTime).TotalSeconds) < 2;

    /// <summary>The process's start time (UTC), or null when no live (non-zombie) process has the pid.</summary>
    public static DateTime? StartTimeOf(int pid)
    {
        if (IsZombie(pid))
        {
            return null;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : process.StartTime.ToUniversalTime();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Asks the node to shut down (SIGTERM: the host stops the silo gracefully, leaving the cluster).</summary>
    public static void Terminate(SessionNode node) => Signal(node, SigTerm);

    /// <summary>Kills the node at once (SIGKILL).</summary>
    public static void Kill(SessionNode node) => Signal(node, SigKill);

    private static void Signal(SessionNode node, int signal)
    {
        if (!IsAlive(node))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            // No signals on Windows: a kill is all there is.
            using var process = Process.GetProcessById(node.Pid);
            process.Kill(entireProcessTree: true);
            return;
        }

        if (SendSignal(node.Pid, signal) != 0 && IsAlive(node))
        {
            throw CliException.Failure($"cannot signal process {node.Pid}: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Linux shows a zombie as state Z in /proc/PID/stat (the field after the parenthesised name).</summary>
    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
            return state.Length > 0 && state[0] is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no /proc (macOS) or no such pid: Process decides
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
