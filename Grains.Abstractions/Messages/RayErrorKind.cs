namespace RayOrleans.Messages;

/// <summary>Which typed exception a stored error becomes at <c>Get</c>.</summary>
public enum RayErrorKind
{
    /// <summary>User code threw: <c>RayTaskException</c>.</summary>
    TaskError = 0,
    /// <summary>The task was cancelled: <c>TaskCancelledException</c>.</summary>
    Cancelled = 1,
    /// <summary>The actor is dead: <c>ActorDiedException</c>.</summary>
    ActorDied = 2,
    /// <summary>The object cannot be recovered: <c>ObjectLostException</c>.</summary>
    ObjectLost = 3,
    /// <summary>The runtime could not run the task (bad descriptor, arguments that do not deserialize).</summary>
    SystemError = 4,
    /// <summary>The call's outcome is unknown, its actor alive: <c>ActorUnavailableException</c>.</summary>
    ActorUnavailable = 5,
    /// <summary>The node's memory monitor cancelled the task: <c>NodeOutOfMemoryException</c>.</summary>
    OutOfMemory = 6,
}
