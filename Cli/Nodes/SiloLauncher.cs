using System.Diagnostics;

namespace RayOrleans.Cli.Nodes;

/// <summary>Starts a silo host process that outlives rayo, and waits until it serves <c>/healthz</c>.</summary>
internal static class SiloLauncher
{
    /// <summary>
    /// Starts <c>dotnet RayOrleans.Silo.dll ARGS</c> in the background with its output appended to
    /// <paramref name="logFile"/>. A shell puts the output in the file (a pipe to rayo would break when rayo
    /// exits) and <c>exec</c>s the host, through <c>setsid</c> where there is one, so the silo gets a session
    /// of its own (no SIGHUP or Ctrl+C from rayo's terminal) and keeps the pid the returned process has: the
    /// shell and setsid replace themselves rather than fork (setsid forks only a process-group leader, and
    /// .NET does not make its children leaders).
    /// </summary>
    public static Process StartDetached(string siloDll, IReadOnlyList<string> arguments, string logFile)
    {
        if (OperatingSystem.IsWindows())
        {
            throw CliException.Failure("rayo start runs silos on Linux and macOS; on Windows start Silo/ with dotnet run.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var setsid = FindOnPath("setsid");
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(siloDll)! };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=$1; shift; exec " + (setsid is null ? "" : "setsid ") + "\"$@\" >>\"$log\" 2>&1 </dev/null");
        start.ArgumentList.Add("rayo-silo"); // $0
        start.ArgumentList.Add(logFile);
        start.ArgumentList.Add(DotnetHost.Path);
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(siloDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(start) ?? throw CliException.Failure("the silo host process did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw CliException.Failure($"cannot start the silo host: {e.Message}", e);
        }
    }

    /// <summary>
    /// Polls <c>GET {httpAddress}/healthz</c> until it answers <c>ok</c> (the host starts Kestrel after the
    /// silo has joined its cluster, so that means the node is in). Throws, with the silo's own last output
    /// on stderr, when the process exits first or <paramref name="timeout"/> passes (then it is killed).
    /// </summary>
    public static async Task WaitUntilHealthyAsync(Process process, string httpAddress, string logFile, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                PrintLogTail(logFile);
                var message = $"the node exited with code {process.ExitCode} before it was ready (its log: {logFile}).";
                throw process.ExitCode == ExitCodes.BadInput ? CliException.BadInput(message) : CliException.Failure(message);
            }

            try
            {
                var answer = await http.GetStringAsync($"{httpAddress}/healthz", cancellationToken);
                if (answer.Trim() == "ok")
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet: the silo is still joining.
            }

            if (DateTime.UtcNow > deadline)
            {
                process.Kill(entireProcessTree: true);
                PrintLogTail(logFile);
                throw CliException.Failure($"the node did not answer {httpAddress}/healthz within {timeout.TotalSeconds:0} s and was killed (its log: {logFile}).");
            }

            await Task.Delay(200, cancellationToken); // poll interval, bounded by the deadline above
        }
    }

    /// <summary>The silo's own last lines (its "error: ..." line says why it did not start).</summary>
    private static void PrintLogTail(string logFile)
    {
        if (!File.Exists(logFile))
        {
            return;
        }

        string[] lines;
        using (var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
        {
            lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        foreach (var line in lines.TakeLast(20))
        {
            Console.Error.WriteLine($"  | {line.TrimEnd('\r')}");
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
