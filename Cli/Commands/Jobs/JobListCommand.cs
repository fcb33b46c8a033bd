using System.Text.Json;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;
using Column = RayOrleans.Cli.Rendering.JsonTable.Column;

namespace RayOrleans.Cli.Commands.Jobs;

/// <summary><c>rayo job list</c>: <c>GET /api/jobs</c>, every job the head knows.</summary>
internal sealed class JobListCommand : AsyncCommand<ListingSettings>
{
    private static readonly Column[] Columns =
    [
        new("SUBMISSION_ID", "submissionId"), new("STATUS", "status"), new("ENTRYPOINT", "entrypoint"), new("START_TIME", "startTime"),
        new("END_TIME", "endTime"), new("EXIT_CODE", "exitCode"), new("DRIVER_PID", "driverPid"), new("MESSAGE", "message"),
    ];

    public override async Task<int> ExecuteAsync(CommandContext context, ListingSettings settings, CancellationToken cancellationToken)
    {
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var jobs = await api.GetJsonAsync("/api/jobs", cancellationToken);
        if (settings.Json)
        {
            return JsonOutput.Print(jobs);
        }

        var rows = jobs.ValueKind == JsonValueKind.Array ? jobs.EnumerateArray().ToList() : [];
        AnsiConsole.WriteLine($"{rows.Count} job{(rows.Count == 1 ? "" : "s")}");
        if (rows.Count > 0)
        {
            TableOutput.Write(JsonTable.Build(rows, Columns));
        }

        return ExitCodes.Success;
    }
}
