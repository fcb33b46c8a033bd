using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>The task was cancelled with <c>Cancel</c> before it produced its value.</summary>
public sealed class TaskCancelledException : RayException
{
    /// <summary>Creates the exception from a stored error.</summary>
    public TaskCancelledException(RayErrorInfo error) : base(error.Message) => Error = error;

    /// <summary>The recorded cancellation.</summary>
    public RayErrorInfo Error { get; }
}
