using ClusterJob;
using Microsoft.Extensions.Logging;
using RayOrleans;

// Submitted as a job, this driver runs on the head node with RAY_ADDRESS set: InitAsync() joins that cluster and
// ships this folder's assemblies, so the silos run Work and Tally without ever having been given them.
//   dotnet ClusterJob.dll            runs the work and exits 0
//   dotnet ClusterJob.dll --hold     also keeps a named actor alive and waits until the job is stopped
//   dotnet ClusterJob.dll --fail N   exits with code N after the work
await using var ray = await Ray.InitAsync();
var nodes = await ray.NodesAsync();
Console.WriteLine($"job {ray.JobId} joined a cluster of {nodes.Count} nodes");

int[] squares = await ray.GetAsync(Enumerable.Range(1, 8).Select(i => ray.Task(Work.Square, i).Remote()));
Console.WriteLine($"squares: {string.Join(",", squares)}");

var tally = ray.Actor(() => new Tally()).Options(new ActorOptions { Name = "cluster-job-tally" }).Remote();
foreach (var square in squares)
{
    await tally.Task(t => t.Add(square)).Remote();
}

Console.WriteLine($"tally: {await tally.Task(t => t.Total()).Remote()}");

if (args.Contains("--hold"))
{
    Console.WriteLine("holding until stopped");
    await Task.Delay(Timeout.Infinite);
}

var fail = Array.IndexOf(args, "--fail");
if (fail >= 0 && fail + 1 < args.Length)
{
    Console.WriteLine($"failing with exit code {args[fail + 1]}");
    return int.Parse(args[fail + 1], System.Globalization.CultureInfo.InvariantCulture);
}

Console.WriteLine("done");
return 0;

namespace ClusterJob
{
    /// <summary>Remote functions of the job: they print, and the driver shows it (log_to_driver).</summary>
    public static class Work
    {
        public static int Square(int x)
        {
            Console.WriteLine($"squaring {x} on {Ray.Current.NodeId}");
            Ray.GetLogger("ClusterJob.Work").LogInformation("squared {X}", x);
            return x * x;
        }
    }

    /// <summary>An actor of the job.</summary>
    public sealed class Tally
    {
        private int _total;

        public int Add(int value)
        {
            _total += value;
            return _total;
        }

        public int Total() => _total;
    }
}
