using RayOrleans;
using RayOrleans.Benchmarks.Cli;
using RayOrleans.Benchmarks.Measurement;
using RayOrleans.Benchmarks.Reporting;
using RayOrleans.Benchmarks.Scenarios;

BenchmarkArguments arguments;
try
{
    arguments = BenchmarkArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchmarkArguments.Usage);
    return 2;
}

if (arguments.Help)
{
    Console.WriteLine(BenchmarkArguments.Usage);
    return 0;
}

if (arguments.List)
{
    Console.WriteLine("micro (the default run): " + string.Join(" ", ScenarioRunner.MicroNames));
    Console.WriteLine("envelope (--envelope):   " + string.Join(" ", ScenarioRunner.EnvelopeNames));
    foreach (var s in ScenarioRunner.Skipped)
    {
        Console.WriteLine($"skipped: {s.Name}: {s.Reason}");
    }

    return 0;
}

if (arguments.ServeSilo)
{
    return await RayOrleans.Benchmarks.Cluster.ExternalSilo.ServeAsync();
}

if ((arguments.ExternalDriver ? 1 : 0) + (arguments.Address is null ? 0 : 1) + (arguments.Silos is null ? 0 : 1) > 1)
{
    Console.Error.WriteLine("--external-driver, --silos and --address each choose the cluster; give one of them.");
    return 2;
}

var unknown = arguments.Names.Where(n => !ScenarioRunner.IsKnown(n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown scenario(s): {string.Join(", ", unknown)}. --list names them.");
    return 2;
}

// What to run: names as given; none means the micro group (with its skipped entries); --envelope adds the envelope group.
var names = new List<string>(arguments.Names);
var skippedNames = ScenarioRunner.Skipped.Select(s => s.Name).ToList();
if (arguments.All || (names.Count == 0 && !arguments.Envelope))
{
    names.AddRange(ScenarioRunner.MicroNames.Concat(skippedNames.Where(n => !EnvelopeSkipped(n))));
}

if (arguments.All || arguments.Envelope)
{
    names.AddRange(ScenarioRunner.EnvelopeNames.Concat(skippedNames.Where(EnvelopeSkipped)));
}

names = names.Distinct().ToList();

var preset = arguments.Quick ? RunSettings.Quick : RunSettings.Full;
var settings = preset with
{
    Plan = preset.Plan with { Trials = arguments.Trials ?? preset.Plan.Trials },
    QueuedTasks = arguments.QueuedTasks ?? preset.QueuedTasks,
    OursOnly = arguments.OursOnly,
    EnvelopeTimeLimit = arguments.EnvelopeLimitSeconds is { } limit ? TimeSpan.FromSeconds(limit) : preset.EnvelopeTimeLimit,
};

var started = DateTimeOffset.Now;
var loadAtStart = MachineInfo.LoadAverage();
var machine = MachineInfo.Collect();
Console.WriteLine($"RayOrleans benchmarks: {machine.ProcessorCount} processors, {Figures.Bytes(machine.MemoryBytes)}, {machine.Runtime}, Orleans {machine.Orleans}, {machine.Gc} GC");
Console.WriteLine($"{(arguments.Quick ? "quick" : "full")} mode: warm-up {settings.Plan.WarmUp.TotalSeconds:0.#} s, {settings.Plan.Trials} trials of >= {settings.Plan.MinTrial.TotalSeconds:0.#} s per side; {names.Count} scenarios");

await using var externalSilo = arguments.ExternalDriver ? await RayOrleans.Benchmarks.Cluster.ExternalSilo.StartAsync() : null;
await using var processes = arguments.Silos is { } silos ? await RayOrleans.Benchmarks.Cluster.ProcessCluster.StartAsync(silos, Environment.ProcessorCount, sameHostShm: false) : null;
var clusterName = externalSilo is { } silo ? $"external driver, silo process at {silo.Address}"
    : processes is { } p ? $"{p.Silos.Count} silo processes over Redis, external driver"
    : arguments.Address ?? "embedded";
var runtimeOptions = new RayOrleans.Runtime.RuntimeOptions { BatchSubmissions = !arguments.NoBatching };
var ray = externalSilo is { } external
    ? await Ray.InitAsync(external.Address, new RayInitOptions { ClusterId = external.ClusterId, Runtime = runtimeOptions })
    : processes is { } cluster ? await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, Runtime = runtimeOptions })
    : arguments.Address is { } address ? await Ray.InitAsync(address) : await Ray.InitAsync();
static string Costs(RateStats s) =>
    $"{s.BytesPerUnit:N0} B allocated, {s.PromotedPerUnit:N0} B promoted out of gen0 ({s.PromotedToGen2PerUnit:N0} B into gen2), GC paused {s.GcPausePercent:0.#}% ({s.MsPerGc:0.0} ms per GC), GCs per 1000: {s.Gen0Per1000:0.###}/{s.Gen1Per1000:0.###}/{s.Gen2Per1000:0.###} (gen0/1/2)";

if (processes is not null)
{
    // Every silo must be in the view before anything is measured, or spreading would see fewer nodes.
    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
    while ((await ray.NodesAsync()).Count < processes.Silos.Count && DateTime.UtcNow < deadline)
    {
        await Task.Delay(200);
    }
}
var runner = await ScenarioRunner.CreateAsync(ray, settings);
if (runner.BaselineUnavailable is { } why)
{
    Console.WriteLine($"raw-Orleans baseline unavailable: {why}");
}

if (settings.ProcessWarmUp > TimeSpan.Zero)
{
    Console.WriteLine($"warming up the process (JIT, thread pool) for {settings.ProcessWarmUp.TotalSeconds:0.#} s, both sides, untimed");
    await runner.WarmUpProcessAsync();
}

var results = new List<ScenarioResult>();
using var allocations = arguments.Allocations ? new AllocationSampler() : null;
foreach (var name in names)
{
    Console.Write($"{name} ... ");
    allocations?.Start();
    var result = await runner.RunAsync(name);
    var sampled = allocations?.Stop(top: 25);
    results.Add(result);
    Console.WriteLine(result.Status switch
    {
        "ok" when result.Ours is { } ours =>
            $"{Figures.Rate(ours.Mean)} {result.Unit} (raw Orleans {(result.Baseline is { } b ? Figures.Rate(b.Mean) : "n/a")}, ratio {Figures.Ratio(result.Ratio)}; {result.Size}; {result.WallSeconds:0.0} s)" +
            $"\n    per unit: {Costs(ours)} ours" + (result.Baseline is { } raw ? $", {Costs(raw)} raw" : ""),
        "ok" => $"{Figures.Number(result.Seconds ?? 0)} s ({result.Size}; peak working set {Figures.Bytes(result.PeakWorkingSetBytes)})",
        _ => $"{result.Status}: {result.Reason}",
    });
    foreach (var (type, share) in sampled ?? [])
    {
        Console.WriteLine($"    {share,6:P1}  {type}");
    }
}

if (processes is not null)
{
    // A multi-process run is its own section of the page, beside the embedded one.
    results = results.Select(r => r.Group == "micro" ? r with { Group = "cluster" } : r).ToList();
}

var report = new BenchmarkReport
{
    Started = started, Command = "dotnet run -c Release --project benchmarks/RayOrleans.Benchmarks -- " + string.Join(' ', args),
    Machine = machine, Mode = arguments.Quick ? "quick" : "full", WarmUpSeconds = settings.Plan.WarmUp.TotalSeconds, Trials = settings.Plan.Trials,
    MinTrialSeconds = settings.Plan.MinTrial.TotalSeconds, Cluster = clusterName, BaselineUnavailable = runner.BaselineUnavailable,
    Source = MachineInfo.SourceRevision(), LoadAtStart = loadAtStart, LoadAtEnd = MachineInfo.LoadAverage(), ProcessWarmUpSeconds = settings.ProcessWarmUp.TotalSeconds,
    Results = results, ProcessPeakWorkingSetBytes = WorkingSetSampler.ProcessPeak(), Batching = !arguments.NoBatching,
};

Console.WriteLine();
var micro = results.Where(r => r.Group is "micro" or "cluster").ToList();
if (micro.Count > 0)
{
    Console.WriteLine(ResultTables.Text(ResultTables.MicroHeader, micro.Select(ResultTables.MicroRow)));
    Console.WriteLine();
}

var envelope = results.Where(r => r.Group == "envelope").ToList();
if (envelope.Count > 0)
{
    Console.WriteLine(ResultTables.Text(ResultTables.EnvelopeHeader, envelope.Select(ResultTables.EnvelopeRow)));
    Console.WriteLine();
}

foreach (var noted in results.Where(r => r.Note is not null))
{
    Console.WriteLine($"note: {noted.Name}: {noted.Note}");
}

if (arguments.JsonPath is { } json)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
    await File.WriteAllTextAsync(json, report.ToJson());
    Console.WriteLine($"wrote {json}");
}

if (arguments.MarkdownPath is { } markdown)
{
    MarkdownReport.Write(markdown, report);
    Console.WriteLine($"wrote {markdown}");
}

try
{
    // A scenario that ran out of time leaves its work running; shutting down must not wait for it forever.
    await ray.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
}
catch (TimeoutException)
{
    Console.WriteLine("the cluster did not stop within 30 s (work left running by a scenario that ran out of time); exiting anyway");
}

return results.Any(r => r.Status == "failed") ? 1 : 0;

static bool EnvelopeSkipped(string name) => RayOrleans.Benchmarks.Scenarios.EnvelopeScenarios.Skipped.Any(s => s.Name == name);
