using System.ComponentModel;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands.Jobs;

/// <summary>The job commands that name one job.</summary>
internal class JobIdSettings : ListingSettings
{
    [CommandArgument(0, "<SUBMISSION_ID>")]
    [Description("The job's submission id, as job submit printed it.")]
    public string SubmissionId { get; set; } = "";

    /// <summary>The id as a path segment of the job API.</summary>
    public string Path => $"/api/jobs/{Uri.EscapeDataString(SubmissionId)}";
}
