using RayOrleans.Cli;
using RayOrleans.Cli.Commands;
using RayOrleans.Cli.Commands.Jobs;
using Spectre.Console.Cli;

// rayo: the command line of a RayOrleans cluster, after Ray's `ray` CLI (ray start/stop/status/list/job).
// Exit codes: 0 done, 1 failed, 2 bad input; errors are one line on stderr, never a stack trace.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C cancels the command (a follower stops following, a start stops waiting); a second one kills rayo.
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupted.Cancel();
    }
};

// `rayo microbenchmark ARGS` hands ARGS to the benchmark program untouched: its switches are its own, which
// this parser would reject as unknown (only --help stays here, for the description).
if (args is ["microbenchmark", .. var benchmarkArgs] && !benchmarkArgs.Any(a => a is "-h" or "--help"))
{
    return await Run(() => MicrobenchmarkCommand.RunAsync(benchmarkArgs, interrupted.Token));
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("rayo");
    config.PropagateExceptions();
    config.UseStrictParsing(); // a mistyped option is an error, not silently ignored
    config.AddCommand<StartCommand>("start")
        .WithDescription("Start a node on this machine: the head of a new cluster (--head) or a worker joining one (--address).")
        .WithExample("start", "--head")
        .WithExample("start", "--address", "127.0.0.1:11111");
    config.AddCommand<StopCommand>("stop").WithDescription("Stop every node this session started on this machine.");
    config.AddCommand<StatusCommand>("status").WithDescription("The cluster's nodes, resource usage and pending demands.");
    config.AddCommand<ListCommand>("list")
        .WithDescription("List the cluster's nodes, actors, tasks, objects, jobs or placement-groups.")
        .WithExample("list", "actors", "--filter", "state=ALIVE")
        .WithExample("list", "nodes", "--json");
    config.AddBranch("summary", summary =>
    {
        summary.SetDescription("Summaries of the cluster's state.");
        summary.AddCommand<SummaryTasksCommand>("tasks").WithDescription("Tasks counted by name and state.");
    });
    config.AddCommand<MemoryCommand>("memory").WithDescription("Each node's object store and its largest objects.");
    config.AddBranch("job", job =>
    {
        job.SetDescription("Submit and follow jobs (driver programs run on the head node).");
        job.AddCommand<JobSubmitCommand>("submit")
            .WithDescription("Upload a working directory and run an entrypoint on the head node.")
            .WithExample("job", "submit", "--working-dir", ".", "--", "dotnet", "MyDriver.dll");
        job.AddCommand<JobStatusCommand>("status").WithDescription("A job's status.");
        job.AddCommand<JobLogsCommand>("logs").WithDescription("A job's driver output.");
        job.AddCommand<JobStopCommand>("stop").WithDescription("Stop a running job.");
        job.AddCommand<JobListCommand>("list").WithDescription("Every job the head knows.");
    });
    config.AddCommand<AutoscalerCommand>("autoscaler")
        .WithDescription("Run the autoscaler as its own process against a cluster, until Ctrl+C or SIGTERM.")
        .WithExample("autoscaler", "--config", "autoscaler.json");
    config.AddCommand<MicrobenchmarkCommand>("microbenchmark")
        .WithDescription("Run the RayOrleans benchmark program (Ray's microbenchmark); arguments go to it unchanged.");
});

return await Run(() => app.RunAsync(args, interrupted.Token));

async Task<int> Run(Func<Task<int>> command)
{
    try
    {
        return await command();
    }
    catch (CliException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return e.ExitCode;
    }
    catch (CommandAppException e)
    {
        // Spectre's parse and conversion errors: an unknown option, a missing argument, "abc" for a number.
        Console.Error.WriteLine($"error: {NameTheOption(e.Message)}");
        Console.Error.WriteLine("Run with --help for the usage.");
        return ExitCodes.BadInput;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("interrupted.");
        return ExitCodes.Interrupted;
    }
    catch (Exception e)
    {
        // Anything unforeseen is still one line; RAYO_DEBUG=1 shows the stack trace.
        Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
        if (Environment.GetEnvironmentVariable("RAYO_DEBUG") == "1")
        {
            Console.Error.WriteLine(e);
        }

        return ExitCodes.Failure;
    }
}

// Spectre says "Failed to convert 'abc' to Nullable`1." without the option; the option is the word before
// the value on the command line (or the --name of --name=abc).
string NameTheOption(string message)
{
    var match = System.Text.RegularExpressions.Regex.Match(message, "^Failed to convert '(?<value>.*)' to (?<type>[^.]+)\\.");
    if (!match.Success)
    {
        return message;
    }

    var value = match.Groups["value"].Value;
    for (var i = 0; i < args.Length; i++)
    {
        if (args[i] == value && i > 0 && args[i - 1].StartsWith('-'))
        {
            return $"{args[i - 1]}: '{value}' is not a number.";
        }

        if (args[i].EndsWith("=" + value, StringComparison.Ordinal) && args[i].StartsWith('-'))
        {
            return $"{args[i][..args[i].IndexOf('=')]}: '{value}' is not a number.";
        }
    }

    return $"'{value}' is not a number.";
}
