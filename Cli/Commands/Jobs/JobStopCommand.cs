using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands.Jobs;

/// <summary><c>rayo job stop ID</c>: <c>POST /api/jobs/{id}/stop</c>; the head kills the driver's process tree.</summary>
internal sealed class JobStopCommand : AsyncCommand<JobIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, JobIdSettings settings, CancellationToken cancellationToken)
    {
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var answer = await api.PostJsonAsync($"{settings.Path}/stop", new { }, cancellationToken);
        if (settings.Json)
        {
            return JsonOutput.Print(answer);
        }

        var stopped = JsonTable.Find(answer, "stopped")?.ValueKind == System.Text.Json.JsonValueKind.True;
        Console.Out.WriteLine(stopped
            ? $"Job '{settings.SubmissionId}' is being stopped."
            : $"Job '{settings.SubmissionId}' had already ended; nothing to stop.");
        return ExitCodes.Success;
    }
}
