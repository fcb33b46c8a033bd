using System.Diagnostics;

namespace RayOrleans.Benchmarks.Cluster;

/// <summary>
/// <c>--external-driver</c>: this program started again as a silo process (<c>--serve-silo</c>), hosting an
/// embedded cluster on loopback with the same assembly loaded, so the baseline grains live in the silo beside
/// the node and the driver reaches both as an Orleans client over the gateway, as a separate driver process
/// reaches a Ray node. The silo process ends when the driver closes its standard input (or dies).
/// </summary>
public sealed class ExternalSilo : IAsyncDisposable
{
    private const string ReadyPrefix = "RAYORLEANS_SILO_READY ";
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly Process _process;

    private ExternalSilo(Process process, string address, string clusterId)
    {
        _process = process;
        Address = address;
        ClusterId = clusterId;
    }

    /// <summary>The silo's gateway, <c>127.0.0.1:port</c>.</summary>
    public string Address { get; }

    public string ClusterId { get; }

    /// <summary>Starts the silo process and waits (at most a minute) until it says where its gateway is.</summary>
    public static async Task<ExternalSilo> StartAsync()
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark's own executable path is unknown.");
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        var entry = typeof(ExternalSilo).Assembly.Location;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(entry); // run as `dotnet RayOrleans.Benchmarks.dll`
        }

        start.ArgumentList.Add("--serve-silo");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{self}' as the silo process.");
        try
        {
            using var limit = new CancellationTokenSource(StartLimit);
            while (await process.StandardOutput.ReadLineAsync(limit.Token) is { } line)
            {
                if (line.StartsWith(ReadyPrefix, StringComparison.Ordinal))
                {
                    var parts = line[ReadyPrefix.Length..].Split(' ');
                    // Keep draining its output, so a chatty silo never blocks on a full pipe.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                    return new ExternalSilo(process, parts[0], parts[1]);
                }
            }

            throw new InvalidOperationException($"The silo process exited (code {(process.HasExited ? process.ExitCode : -1)}) before its gateway was ready.");
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The silo process did not report its gateway within {StartLimit.TotalSeconds:0} s.");
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>The <c>--serve-silo</c> side: runs the cluster until standard input closes.</summary>
    public static async Task<int> ServeAsync()
    {
        var clusterId = $"bench-{Guid.NewGuid():N}";
        await using var ray = await Ray.InitAsync(new RayInitOptions { ClusterId = clusterId });
        Console.WriteLine($"{ReadyPrefix}{ray.Address} {clusterId}");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
