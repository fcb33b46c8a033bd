namespace RayOrleans.Cli;

/// <summary>
/// What a command reports as one line on stderr, with its exit code: <see cref="ExitCodes.BadInput"/> when
/// the user's input was wrong (a malformed option, an unknown kind), <see cref="ExitCodes.Failure"/> when
/// the input was fine but the work failed (a node that did not start, an address nobody answers on).
/// </summary>
internal sealed class CliException : Exception
{
    private CliException(string message, int exitCode, Exception? inner = null)
        : base(message, inner)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code this error ends rayo with.</summary>
    public int ExitCode { get; }

    /// <summary>The user's input is wrong; exit code 2.</summary>
    public static CliException BadInput(string message) => new(message, ExitCodes.BadInput);

    /// <summary>The work failed; exit code 1.</summary>
    public static CliException Failure(string message, Exception? inner = null) => new(message, ExitCodes.Failure, inner);
}
