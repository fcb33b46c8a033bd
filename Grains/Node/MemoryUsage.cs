using System.Globalization;

namespace RayOrleans.Node;

/// <summary>
/// How much memory the machine (or the container this node runs in) has in use, as Ray's memory monitor
/// reads it: the cgroup v2 limit and usage when the process is limited (a Kubernetes pod), else
/// <c>/proc/meminfo</c>'s total less what is available (page cache that can be dropped counts as free).
/// </summary>
internal static class MemoryUsage
{
    private const string CgroupMax = "/sys/fs/cgroup/memory.max";
    private const string CgroupCurrent = "/sys/fs/cgroup/memory.current";

    /// <summary>Bytes in use and bytes in all; null where neither source exists (not Linux).</summary>
    public static (long Used, long Total)? Read()
    {
        try
        {
            if (File.Exists(CgroupMax) && File.ReadAllText(CgroupMax).Trim() is var max && max != "max" &&
                long.TryParse(max, CultureInfo.InvariantCulture, out var limit) && limit > 0 &&
                long.TryParse(File.ReadAllText(CgroupCurrent).Trim(), CultureInfo.InvariantCulture, out var current))
            {
                return (current, limit);
            }

            long? total = null, available = null;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    total = KiB(line);
                }
                else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    available = KiB(line);
                }

                if (total is not null && available is not null)
                {
                    return (total.Value - available.Value, total.Value);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;

        static long KiB(string line) =>
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
