using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands.Jobs;

/// <summary><c>rayo job status ID</c>: <c>GET /api/jobs/{id}</c>, every field of the job's info.</summary>
internal sealed class JobStatusCommand : AsyncCommand<JobIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, JobIdSettings settings, CancellationToken cancellationToken)
    {
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var info = await api.GetJsonAsync(settings.Path, cancellationToken);
        if (settings.Json)
        {
            return JsonOutput.Print(info);
        }

        var grid = new Grid().AddColumn().AddColumn();
        foreach (var property in info.EnumerateObject())
        {
            grid.AddRow(new Text(property.Name), new Text(JsonTable.Format(property.Value)));
        }

        TableOutput.Write(grid);
        return ExitCodes.Success;
    }
}
