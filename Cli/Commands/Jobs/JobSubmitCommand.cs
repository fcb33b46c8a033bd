using System.ComponentModel;
using System.Text.Json;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Jobs;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands.Jobs;

/// <summary>
/// <c>rayo job submit [--working-dir DIR] -- ENTRYPOINT...</c>: Ray's <c>ray job submit</c>. Zips DIR
/// deterministically, uploads it only when the head lacks that SHA-256 (<c>HEAD</c>, then <c>PUT
/// /api/packages/{sha}</c>), <c>POST /api/jobs</c>, prints the submission id and, unless <c>--no-wait</c>,
/// follows the driver's output until the job ends: exit 0 only when it SUCCEEDED.
/// </summary>
internal sealed class JobSubmitCommand : AsyncCommand<JobSubmitCommand.Settings>
{
    internal sealed class Settings : ApiSettings
    {
        [CommandOption("--working-dir <DIR>")]
        [Description("A folder uploaded to the head; the driver runs in it. Default: none (the head's folder).")]
        public string? WorkingDir { get; set; }

        [CommandOption("--submission-id <ID>")]
        [Description("The job's id. Default: one the head makes (raysubmit_...).")]
        public string? SubmissionId { get; set; }

        [CommandOption("--no-wait")]
        [Description("Print the submission id and return, without following the logs.")]
        public bool NoWait { get; set; }

        [CommandOption("--env <K=V>")]
        [Description("An environment variable of the driver; repeat for several.")]
        public string[] Env { get; set; } = [];

        [CommandOption("--metadata <K=V>")]
        [Description("Metadata stored with the job; repeat for several.")]
        public string[] Metadata { get; set; } = [];
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var entrypoint = context.Remaining.Raw.ToList();
        if (entrypoint.Count == 0 || string.IsNullOrWhiteSpace(entrypoint[0]))
        {
            throw CliException.BadInput("no entrypoint: give the driver's command after --, e.g. rayo job submit -- dotnet MyDriver.dll.");
        }

        var env = Pairs("--env", settings.Env);
        var metadata = Pairs("--metadata", settings.Metadata);
        var package = settings.WorkingDir is null ? null : WorkingDirPackage.Create(settings.WorkingDir);
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        if (package is not null)
        {
            var path = $"/api/packages/{package.Sha256}";
            if (await api.ExistsAsync(path, cancellationToken))
            {
                Console.Error.WriteLine($"Working dir: package {package.Sha256[..12]} ({package.Files} files) is on the head already.");
            }
            else
            {
                Console.Error.WriteLine($"Working dir: uploading package {package.Sha256[..12]} ({package.Files} files, {Units.Bytes(package.Bytes.Length)}).");
                await api.PutBytesAsync(path, package.Bytes, "application/zip", cancellationToken);
            }
        }

        var answer = await api.PostJsonAsync("/api/jobs", new JobSubmission
        {
            Entrypoint = entrypoint,
            WorkingDir = package?.Sha256,
            SubmissionId = settings.SubmissionId,
            Env = env,
            Metadata = metadata,
        }, cancellationToken);
        var submissionId = JsonTable.Find(answer, "submissionId")?.GetString()
            ?? throw CliException.Failure($"{api.Address} accepted the job but answered no submissionId: {answer.GetRawText()}");

        // The id alone on stdout, so `id=$(rayo job submit --no-wait ...)` works; the rest goes to stderr.
        Console.Out.WriteLine(submissionId);
        if (settings.NoWait)
        {
            Console.Error.WriteLine($"Job '{submissionId}' submitted. Follow it with: rayo job logs {submissionId} --follow; its status: rayo job status {submissionId}");
            return ExitCodes.Success;
        }

        Console.Error.WriteLine($"Job '{submissionId}' submitted; following its logs (Ctrl+C stops following, not the job).");
        await JobLogFollower.CopyAsync(api, submissionId, follow: true, cancellationToken);
        var info = await api.GetJsonAsync($"/api/jobs/{Uri.EscapeDataString(submissionId)}", cancellationToken);
        var status = JsonTable.Find(info, "status")?.GetString();
        var message = JsonTable.Find(info, "message") is { } m ? JsonTable.Format(m) : "";
        Console.Error.WriteLine($"Job '{submissionId}' {status?.ToLowerInvariant() ?? "ended"}{(message.Length > 0 ? $": {message}" : ".")}");
        return status == JobStatuses.Succeeded ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static Dictionary<string, string> Pairs(string option, IEnumerable<string> values)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CliException.BadInput($"{option}: '{value}' is not KEY=VALUE.");
            }

            pairs[value[..equals]] = value[(equals + 1)..];
        }

        return pairs;
    }

    /// <summary>The body of <c>POST /api/jobs</c>.</summary>
    private sealed class JobSubmission
    {
        public required List<string> Entrypoint { get; init; }

        public string? WorkingDir { get; init; }

        public string? SubmissionId { get; init; }

        public required Dictionary<string, string> Env { get; init; }

        public required Dictionary<string, string> Metadata { get; init; }
    }
}
