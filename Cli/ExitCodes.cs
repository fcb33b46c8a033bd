namespace RayOrleans.Cli;

/// <summary>rayo's exit codes, the node host's convention: 0 done, 1 failed, 2 bad input.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    /// <summary>Interrupted with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
