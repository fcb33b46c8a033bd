using System.Globalization;

namespace RayOrleans.Silo.Jobs;

/// <summary>
/// A file per running driver in the jobs folder (<c>drivers/{pid}</c>, holding the process's start time), so
/// that a head killed without a clean shutdown (SIGKILL, a crash), which could not stop its drivers, has them
/// stopped by the next head started on the same jobs folder, as Ray's raylet clears the workers of a
/// previous one. The start time tells the driver from a later process that reused its id.
/// </summary>
/// <remarks>Linux only (it reads <c>/proc</c>); elsewhere nothing is recorded.</remarks>
internal sealed class DriverRecords(string folder)
{
    private const int SigKill = 9;

    /// <summary>Records a started driver.</summary>
    public void Add(int pid)
    {
        if (StartTime(pid) is { } started)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, pid.ToString(CultureInfo.InvariantCulture)), started);
        }
    }

    /// <summary>Forgets a driver whose process group is gone.</summary>
    public void Remove(int pid)
    {
        try
        {
            File.Delete(Path.Combine(folder, pid.ToString(CultureInfo.InvariantCulture)));
        }
        catch (IOException)
        {
            // Left for the next head, which finds the process gone and deletes it.
        }
    }

    /// <summary>
    /// SIGKILLs the process group of every recorded driver still running (a previous head's), forgets every
    /// record, and returns the ids of the drivers killed.
    /// </summary>
    public IReadOnlyList<int> KillLeftovers()
    {
        var killed = new List<int>();
        if (!Directory.Exists(folder))
        {
            return killed;
        }

        foreach (var record in Directory.EnumerateFiles(folder))
        {
            if (int.TryParse(Path.GetFileName(record), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && StartTime(pid) is { } started
                && started == File.ReadAllText(record))
            {
                _ = DriverProcess.SignalGroup(pid, SigKill);
                killed.Add(pid);
            }

            File.Delete(record);
        }

        return killed;
    }

    // Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; kept across exec.
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
