using RayOrleans.Silo;
using RayOrleans.Silo.Configuration;
using RayOrleans.Silo.Dashboard;
using RayOrleans.Silo.Hosting;
using RayOrleans.Silo.Http;

// The RayOrleans node host: `dotnet run --project Silo -- --clustering redis --silo-port 11112 ...`.
// Exit codes: 0 after a clean shutdown (Ctrl+C, SIGTERM), 1 when the node fails to start, 2 on bad input.
const int BadInput = 2;
const int StartFailed = 1;

if (SiloHostSwitches.WantsHelp(args))
{
    Console.WriteLine(SiloHostSwitches.Usage());
    return 0;
}

WebApplicationBuilder builder;
SiloHostOptions options;
try
{
    // appsettings.json is read from the host's own folder, so `dotnet run --project Silo` finds it from any cwd.
    builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
    builder.Configuration.AddSiloHostSources(args);
    options = builder.Configuration.GetSiloHostOptions();
}
catch (InvalidSiloOptionException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("Run with --help for the options.");
    return BadInput;
}
catch (InvalidDataException e)
{
    // A malformed appsettings.json: the JSON provider's message names the file and the position.
    Console.Error.WriteLine($"error: {e.Message} {e.InnerException?.Message}");
    return BadInput;
}

try
{
    builder.AddRayNodeHost(options);
    builder.AddRayJobs(options.ToJobOptions());
    builder.AddRayAutoscalerIfConfigured(options);
}
catch (NodeStartException e)
{
    Console.Error.WriteLine($"error: the node did not start: {e.Message}");
    return StartFailed;
}

await using var app = builder.Build();
app.MapNodeApi();
app.MapJobApi();
app.MapRayTelemetry();
if (options.OrleansDashboard)
{
    app.MapOrleansGrainDashboard();
}

app.MapRayDashboard(options.OrleansDashboard ? OrleansDashboardHosting.Path : null);

try
{
    await app.StartAsync();
}
catch (Exception e) when (e is not OperationCanceledException)
{
    // A taken port, an unreachable Redis: one line per cause, not a stack trace.
    Console.Error.WriteLine($"error: the node did not start: {e.Message}");
    for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
    {
        Console.Error.WriteLine($"  caused by {inner.GetType().Name}: {inner.Message}");
    }

    return StartFailed;
}

var nodeId = app.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
Console.WriteLine(
    $"RayOrleans node {nodeId} started: cluster {options.ClusterId}, " +
    $"silo {options.AdvertisedAddress}:{options.SiloPort}, gateway {options.AdvertisedAddress}:{options.GatewayPort}, " +
    $"http http://127.0.0.1:{options.HttpPort}, resources {options.ToNodeOptions().ToResourceSet()}");

await app.WaitForShutdownAsync();
return 0;
