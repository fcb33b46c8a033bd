using System.ComponentModel;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Jobs;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands.Jobs;

/// <summary><c>rayo job logs ID [--follow]</c>: the driver's output so far, or followed until the job ends.</summary>
internal sealed class JobLogsCommand : AsyncCommand<JobLogsCommand.Settings>
{
    internal sealed class Settings : JobIdSettings
    {
        [CommandOption("-f|--follow")]
        [Description("Keep printing new output until the job ends.")]
        public bool Follow { get; set; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        await JobLogFollower.CopyAsync(api, settings.SubmissionId, settings.Follow, cancellationToken);
        return ExitCodes.Success;
    }
}
