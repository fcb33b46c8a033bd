using System.Runtime;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using RayOrleans.Benchmarks.Scenarios;

namespace RayOrleans.Benchmarks.Reporting;

/// <summary>One run: where it ran, how, and every scenario's figures. Written as JSON with <c>--json</c>.</summary>
public sealed record BenchmarkReport
{
    public required DateTimeOffset Started { get; init; }

    public required string Command { get; init; }

    public required MachineInfo Machine { get; init; }

    /// <summary>"full", "quick" or "tiny".</summary>
    public required string Mode { get; init; }

    public required double WarmUpSeconds { get; init; }

    public required int Trials { get; init; }

    public required double MinTrialSeconds { get; init; }

    /// <summary>"embedded" or the address given.</summary>
    public required string Cluster { get; init; }

    public string? BaselineUnavailable { get; init; }

    /// <summary>Whether an external driver batched its tasks and actor calls (false with <c>--no-batching</c>).</summary>
    public bool Batching { get; init; } = true;

    /// <summary>The source measured: the commit, and whether the runtime's folders had uncommitted changes.</summary>
    public string? Source { get; init; }

    /// <summary>Load averages (1, 5, 15 min) at the start and the end of the run: the machine may be shared.</summary>
    public string? LoadAtStart { get; init; }

    public string? LoadAtEnd { get; init; }

    /// <summary>Seconds of untimed process warm-up before the first scenario.</summary>
    public double ProcessWarmUpSeconds { get; init; }

    public required IReadOnlyList<ScenarioResult> Results { get; init; }

    /// <summary>The process's lifetime peak working set at the end of the run, in bytes.</summary>
    public long ProcessPeakWorkingSetBytes { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>The machine a run measured, as the benchmark page states it.</summary>
public sealed record MachineInfo
{
    public required int ProcessorCount { get; init; }

    public required string CpuModel { get; init; }

    public required long MemoryBytes { get; init; }

    public required string Os { get; init; }

    public required string Runtime { get; init; }

    public required string RuntimeIdentifier { get; init; }

    public required string Orleans { get; init; }

    public required string Gc { get; init; }

    /// <summary>
    /// The commit of the working tree the program runs in, with "+ uncommitted changes" when Client, Grains
    /// or Grains.Abstractions differ from it; "?" outside a git checkout.
    /// </summary>
    public static string SourceRevision()
    {
        var commit = Git("rev-parse --short HEAD");
        if (commit is null)
        {
            return "?";
        }

        var dirty = Git("status --porcelain -- Client Grains Grains.Abstractions");
        return string.IsNullOrWhiteSpace(dirty) ? commit : $"{commit} + uncommitted changes in the runtime";
    }

    private static string? Git(string arguments)
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (git is null)
            {
                return null;
            }

            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>/proc/loadavg now: the machine is shared, so a run records how busy it was.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static MachineInfo Collect() => new()
    {
        ProcessorCount = Environment.ProcessorCount,
        CpuModel = ReadProc("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        MemoryBytes = ParseKiB(ReadProc("/proc/meminfo", "MemTotal")) ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        Os = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
        RuntimeIdentifier = RuntimeInformation.RuntimeIdentifier,
        Orleans = (typeof(Grain).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?").Split('+', ' ')[0].TrimEnd('.'),
        Gc = $"{(GCSettings.IsServerGC ? "server" : "workstation")}, {(GCSettings.LatencyMode == GCLatencyMode.Batch ? "non-concurrent" : "concurrent")}",
    };

    private static string? ReadProc(string path, string key)
    {
        try
        {
            return File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal)).Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ParseKiB(string? text) =>
        text is not null && long.TryParse(text.Split(' ')[0], out var kib) ? kib * 1024 : null;
}
