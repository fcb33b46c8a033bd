using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>
/// User code in a task or actor method threw. Carries the remote exception's type, message and stack, the
/// failing task's name and id, and the node; when the failure came through a dependency,
/// <see cref="Cause"/> is the original failure.
/// </summary>
public sealed class RayTaskException : RayException
{
    /// <summary>Creates the exception from a stored error.</summary>
    public RayTaskException(RayErrorInfo error)
        : base(Describe(error), error.Cause is null ? null : RayErrors.ToException(error.Cause))
    {
        Error = error;
    }

    /// <summary>The recorded failure.</summary>
    public RayErrorInfo Error { get; }

    /// <summary>Full name of the remote exception's type.</summary>
    public string RemoteExceptionType => Error.ExceptionType;

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage => Error.Message;

    /// <summary>The remote stack trace.</summary>
    public string? RemoteStackTrace => Error.StackTrace;

    /// <summary>The task or actor method that failed.</summary>
    public string TaskName => Error.TaskName;

    /// <summary>The node it ran on.</summary>
    public string? Node => Error.Node;

    /// <summary>The original failure when this one came through a dependency; otherwise null.</summary>
    public RayErrorInfo? Cause => Error.Cause;

    private static string Describe(RayErrorInfo e) => e.Cause is null
        ? $"Task '{e.TaskName}' ({e.TaskId:N}) failed on node {e.Node ?? "?"} with {e.ExceptionType}: {e.Message}{Environment.NewLine}Remote stack trace:{Environment.NewLine}{e.StackTrace}"
        : $"Task '{e.TaskName}' ({e.TaskId:N}) failed on node {e.Node ?? "?"}: {e.Message}";
}
