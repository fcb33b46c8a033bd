using System.Diagnostics;
using System.Runtime.InteropServices;
using RayOrleans;

// A job's driver, run by the head node as `dotnet JobDriver.dll <mode>` in the job's unpacked working folder:
//   JobDriver.dll 0|N              joins the cluster, prints what it sees, exits with code N
//   JobDriver.dll forever [child|ignore-sigterm]
//                                  the same, then runs until stopped: exits on SIGTERM (with a child process
//                                  of its own, which the stop must take down too), or ignores it (so the stop
//                                  has to SIGKILL it after its grace period)
// The head sets RAY_ADDRESS (the address Ray.InitAsync takes) and RAYORLEANS_JOB_ID for every driver.
var mode = args.Length > 0 ? args[0] : "0";
var address = Environment.GetEnvironmentVariable("RAY_ADDRESS")
    ?? throw new InvalidOperationException("RAY_ADDRESS is not set: run this program as a job submitted to a RayOrleans head.");
var jobId = Environment.GetEnvironmentVariable("RAYORLEANS_JOB_ID");
Console.WriteLine($"job {jobId} driver {Environment.ProcessId} joining {address} from {Environment.CurrentDirectory}");
if (Environment.GetEnvironmentVariable("GREETING") is { } greeting)
{
    Console.WriteLine($"greeting: {greeting}");
}

await using var ray = await Ray.InitAsync(address, new RayInitOptions
{
    ClusterId = Environment.GetEnvironmentVariable("RAYORLEANS_CLUSTER_ID"),
    ServiceId = Environment.GetEnvironmentVariable("RAYORLEANS_SERVICE_ID") ?? "rayorleans",
});
var nodes = await ray.NodesAsync();
Console.WriteLine($"nodes: {nodes.Count}");
var answer = await ray.PutAsync(42);
Console.WriteLine($"put/get: {await ray.GetAsync(answer)}");

if (mode == "forever")
{
    var option = args.Length > 1 ? args[1] : "";
    if (option == "child")
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "3600") { UseShellExecute = false })!;
        Console.WriteLine($"child pid: {child.Id}");
    }

    var terminated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    using var onSigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true; // handled here: exit cleanly below, or not at all
        if (option == "ignore-sigterm")
        {
            Console.WriteLine("SIGTERM ignored");
        }
        else
        {
            terminated.TrySetResult();
        }
    });
    Console.WriteLine("running until stopped");
    await terminated.Task;
    Console.WriteLine("SIGTERM: stopping");
    return 143; // 128 + SIGTERM, as a shell reports a process ended by it
}

var exitCode = int.Parse(mode, System.Globalization.CultureInfo.InvariantCulture);
Console.Error.WriteLine($"exiting with code {exitCode}");
return exitCode;
