using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>Turns recorded errors into the typed exceptions users catch.</summary>
public static class RayErrors
{
    /// <summary>The exception a get raises for <paramref name="error"/>.</summary>
    public static RayException ToException(RayErrorInfo error) => error.Kind switch
    {
        RayErrorKind.Cancelled => new TaskCancelledException(error),
        RayErrorKind.ActorDied => new ActorDiedException(error),
        RayErrorKind.ActorUnavailable => new ActorUnavailableException(error),
        RayErrorKind.OutOfMemory => new NodeOutOfMemoryException(error),
        RayErrorKind.ObjectLost when error.LostObject is { } lost => new ObjectLostException(lost, error.Message),
        _ => new RayTaskException(error),
    };

    /// <summary>Records <paramref name="exception"/> thrown by <paramref name="taskName"/>.</summary>
    public static RayErrorInfo FromException(Exception exception, string taskName, Guid taskId, string? node)
    {
        // A failure that is itself a propagated RayOrleans failure keeps its original record as the cause,
        // so the user sees the first thing that went wrong, not a chain of wrappers.
        return exception switch
        {
            RayTaskException rte => new RayErrorInfo
            {
                Kind = RayErrorKind.TaskError, ExceptionType = rte.RemoteExceptionType,
                Message = $"dependency '{rte.TaskName}' failed with {rte.RemoteExceptionType}: {rte.RemoteMessage}",
                TaskName = taskName, TaskId = taskId, Node = node, Cause = rte.Cause ?? rte.Error,
            },
            TaskCancelledException tce => tce.Error,
            ObjectLostException ole => new RayErrorInfo
            {
                Kind = RayErrorKind.ObjectLost, ExceptionType = typeof(ObjectLostException).FullName!, Message = ole.Reason,
                TaskName = taskName, TaskId = taskId, Node = node, LostObject = ole.ObjectId,
            },
            ActorDiedException ade => ade.Error,
            ActorUnavailableException aue => aue.Error,
            NodeOutOfMemoryException oom => oom.Error,
            _ => new RayErrorInfo
            {
                Kind = RayErrorKind.TaskError, ExceptionType = exception.GetType().FullName ?? exception.GetType().Name,
                Message = exception.Message, StackTrace = exception.StackTrace, TaskName = taskName, TaskId = taskId, Node = node,
            },
        };
    }
}
