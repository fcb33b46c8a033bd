using System.ComponentModel;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>Options of every command that reads or writes this machine's session.</summary>
internal class SessionSettings : CommandSettings
{
    [CommandOption("--session-dir <DIR>")]
    [Description("The session folder (default $TMPDIR/rayorleans/session_latest, or RAYO_SESSION_DIR).")]
    public string? SessionDir { get; set; }
}

/// <summary>Options of the commands that talk to a node's HTTP API.</summary>
internal class ApiSettings : SessionSettings
{
    [CommandOption("--address <ADDRESS>")]
    [Description("The node's HTTP address, e.g. http://127.0.0.1:8265. Default: RAYO_ADDRESS, else the head this session started.")]
    public string? Address { get; set; }
}

/// <summary>Options of the commands that print a listing.</summary>
internal class ListingSettings : ApiSettings
{
    [CommandOption("--json")]
    [Description("Print the API's JSON as it is, for scripts.")]
    public bool Json { get; set; }
}
