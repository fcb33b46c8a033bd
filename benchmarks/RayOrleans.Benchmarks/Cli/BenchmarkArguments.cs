using System.Globalization;

namespace RayOrleans.Benchmarks.Cli;

/// <summary>The command line: scenario names and switches. A small hand parser; errors name the bad argument.</summary>
public sealed record BenchmarkArguments
{
    public List<string> Names { get; } = [];

    public bool Quick { get; private set; }

    public bool Envelope { get; private set; }

    public bool All { get; private set; }

    public int? Trials { get; private set; }

    public int? QueuedTasks { get; private set; }

    public int? EnvelopeLimitSeconds { get; private set; }

    public string? JsonPath { get; private set; }

    public string? MarkdownPath { get; private set; }

    public string? Address { get; private set; }

    public bool ExternalDriver { get; private set; }

    /// <summary><c>--ours-only</c>: skip the raw-Orleans side, so a CPU profile of the run holds only our frames.</summary>
    public bool OursOnly { get; private set; }

    /// <summary>
    /// <c>--no-batching</c>: an external driver sends each task as its own call (RuntimeOptions.BatchSubmissions
    /// off), to compare with batched submissions in the same conditions.
    /// </summary>
    public bool NoBatching { get; private set; }

    /// <summary><c>--allocations</c>: print the types each scenario allocates most (the runtime's allocation sampling).</summary>
    public bool Allocations { get; private set; }

    /// <summary><c>--silos N</c>: a Redis cluster of N silo processes this program starts; null for none.</summary>
    public int? Silos { get; private set; }

    /// <summary>Internal: this process is the silo of another's <c>--external-driver</c> run.</summary>
    public bool ServeSilo { get; private set; }

    public bool List { get; private set; }

    public bool Help { get; private set; }

    public const string Usage = """
        Usage: dotnet run -c Release --project benchmarks/RayOrleans.Benchmarks -- [scenario ...] [options]

        Runs Ray's microbenchmark scenarios (default: all of them) on an embedded cluster, each against the
        raw-Orleans call pattern doing the same work in the same run.

          scenario ...         run only these (see --list); names of the envelope group are allowed too
          --quick              smaller sizes, 0.5 s warm-up and 2 trials of >= 0.5 s (under 2 minutes)
          --trials N           timed trials per side (default 4; --quick 2)
          --envelope           the scalability-envelope group (not in the default run); with names, in addition
          --all                every micro scenario and the envelope group
          --queued-tasks N     tasks in the queued_tasks envelope scenario (default 1,000,000; --quick 100,000)
          --envelope-limit S   seconds queued_tasks may run before it reports how far it got (default 600; --quick 120)
          --json PATH          write every figure as JSON
          --markdown PATH      write the results page (docs/benchmarks.md); only the sections of the groups run are replaced
          --address ADDRESS    use a running cluster: redis://host:port or host:port[,host:port] (its silos need this
                               assembly: start them with --code-dir pointing at this program's output for tasks;
                               the baseline grain is reported unavailable unless their silos host it)
          --external-driver    the driver as a separate client process against a silo process this program starts
          --silos N            a cluster of N silo host processes joined through a redis-server this program starts
                               (each offers the machine's CPUs and hosts the baseline grains); results go to the
                               page's multi-process section
          --ours-only          run only our side (no raw-Orleans baseline, no ratio): for CPU profiles of our code
          --no-batching        an external driver sends one call per task (no batched submissions and replies)
          --allocations        after each scenario, the types it allocated most (sampled by the runtime, both sides)
          --list               list the scenarios and exit
          --help               this text
        """;

    public static BenchmarkArguments Parse(IReadOnlyList<string> args)
    {
        var parsed = new BenchmarkArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--quick": parsed.Quick = true; break;
                case "--envelope": parsed.Envelope = true; break;
                case "--all": parsed.All = true; break;
                case "--external-driver": parsed.ExternalDriver = true; break;
                case "--ours-only": parsed.OursOnly = true; break;
                case "--no-batching": parsed.NoBatching = true; break;
                case "--allocations": parsed.Allocations = true; break;
                case "--serve-silo": parsed.ServeSilo = true; break;
                case "--list": parsed.List = true; break;
                case "--help" or "-h" or "-?": parsed.Help = true; break;
                case "--trials": parsed.Trials = PositiveInt(arg, Value(args, ref i)); break;
                case "--queued-tasks": parsed.QueuedTasks = PositiveInt(arg, Value(args, ref i)); break;
                case "--envelope-limit": parsed.EnvelopeLimitSeconds = PositiveInt(arg, Value(args, ref i)); break;
                case "--json": parsed.JsonPath = Value(args, ref i); break;
                case "--markdown": parsed.MarkdownPath = Value(args, ref i); break;
                case "--address": parsed.Address = Value(args, ref i); break;
                case "--silos": parsed.Silos = PositiveInt(arg, Value(args, ref i)); break;
                default:
                    if (arg.StartsWith('-'))
                    {
                        throw new ArgumentException($"Unknown option '{arg}'.");
                    }

                    parsed.Names.Add(arg);
                    break;
            }
        }

        return parsed;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Option '{args[i]}' needs a value.");
        }

        return args[++i];
    }

    private static int PositiveInt(string option, string text) =>
        int.TryParse(text.Replace(",", "").Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"Option '{option}' needs a positive whole number, not '{text}'.");
}
