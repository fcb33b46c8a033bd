using System.Diagnostics;
using System.Text.Json;

namespace RayOrleans.Tests.Fixtures;

/// <summary>
/// A <c>rayo</c> session for one test: its own session folder, object-store folder and cluster id; runs
/// <c>dotnet rayo.dll ...</c> as a real process; kills whatever the session recorded at dispose, whether the
/// test passed or not.
/// </summary>
public sealed class RayoSession(string prefix) : IAsyncDisposable
{
    public string SessionDirectory { get; } = Path.Combine(Path.GetTempPath(), $"rayo-test-{Guid.NewGuid():N}");

    public string StoreDirectory { get; } = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"rayo-test-{Guid.NewGuid():N}");

    public string ClusterId { get; } = prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Kills every process the session recorded (by pid, when it is still the process recorded), then removes the folders.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var node in Nodes())
        {
            try
            {
                using var process = Process.GetProcessById(node.Pid);
                if (Math.Abs((process.StartTime.ToUniversalTime() - node.ProcessStartTime).TotalSeconds) < 2)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        foreach (var directory in new[] { SessionDirectory, StoreDirectory })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return ValueTask.CompletedTask;
    }

    public sealed record Node(string Role, int Pid, DateTime ProcessStartTime, string HttpAddress);

    public List<Node> Nodes()
    {
        var file = Path.Combine(SessionDirectory, "session.json");
        if (!File.Exists(file))
        {
            return [];
        }

        using var document = JsonDocument.Parse(File.ReadAllText(file));
        return document.RootElement.GetProperty("nodes").EnumerateArray()
            .Select(n => new Node(
                n.GetProperty("role").GetString()!, n.GetProperty("pid").GetInt32(),
                n.GetProperty("processStartTime").GetDateTime().ToUniversalTime(), n.GetProperty("httpAddress").GetString()!))
            .ToList();
    }

    /// <summary>Whether the pid is a live process: a zombie (an orphaned silo that init has not reaped) is not.</summary>
    public static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (File.Exists(stat))
        {
            try
            {
                var text = File.ReadAllText(stat);
                return text[(text.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
            }
            catch (IOException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public Task<Result> RunAsync(params string[] arguments) => RunAsync(new Dictionary<string, string>(), arguments);

    /// <summary>Runs rayo with these environment variables set as well (the nodes it starts inherit them).</summary>
    public Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) => RunProcessAsync(Start(environment, arguments));

    /// <summary>How rayo is started with these arguments and extra environment variables.</summary>
    public ProcessStartInfo Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(RayoDll());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["RAYO_SESSION_DIR"] = SessionDirectory;
        start.Environment.Remove("RAYO_ADDRESS");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>Runs a command to its end (killed after two minutes), with its output.</summary>
    public static async Task<Result> RunProcessAsync(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>rayo as the Cli project builds it: tests/RayOrleans.Tests/bin/C/F/ -> Cli/bin/C/F/rayo.dll.</summary>
    public static string RayoDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "Cli", "bin", here.Parent.Name, here.Name, "rayo.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"rayo is not built at {path}: dotnet build Cli -c {here.Parent.Name}.");
    }
}
