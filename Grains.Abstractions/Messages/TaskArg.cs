namespace RayOrleans.Messages;

/// <summary>
/// One argument of a task or actor call: either a value serialized at the call site, or a reference to an
/// object the callee waits for and receives as a value.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.TaskArg")]
public sealed class TaskArg
{
    /// <summary>The serialized value, when the argument was passed by value.</summary>
    [Id(0)] public byte[]? Value { get; init; }

    /// <summary>The object to resolve, when the argument was an <c>ObjectRef</c>.</summary>
    [Id(1)] public ObjectId? Ref { get; init; }

    /// <summary>
    /// For a ref argument the caller owns: the object's record, which the caller waited for before sending
    /// (its bytes inline, its location, or the error the callee rethrows), so the callee needs no lookup.
    /// </summary>
    [Id(2)] public ObjectValue? Resolved { get; init; }

    /// <summary>
    /// For a value argument: the objects whose refs it contains. The caller holds them until the task is done,
    /// and the worker that reads them holds them from then on.
    /// </summary>
    [Id(3)] public ObjectId[]? Refs { get; init; }
}
