namespace RayOrleans.Messages;

/// <summary>
/// One task's reply, pushed by its node to its owner in a batch (<see cref="Grains.IObjectOwner.TasksRepliedAsync"/>)
/// when the owner submitted it in a batch (<see cref="Grains.INodeGrain.SubmitAsync"/>): the same returns that
/// <see cref="Grains.INodeGrain.ExecuteAsync"/> replies with, or the failure it would have thrown.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.TaskReply")]
public sealed class TaskReply
{
    /// <summary>The task replied for.</summary>
    [Id(0)] public Guid TaskId { get; init; }

    /// <summary>The attempt that ran (a late reply of an earlier attempt is told from the current one by it).</summary>
    [Id(1)] public int Attempt { get; init; }

    /// <summary>The returns, as <see cref="Grains.INodeGrain.ExecuteAsync"/> replies; null when <see cref="Failure"/> is set.</summary>
    [Id(2)] public ObjectValue[]? Values { get; init; }

    /// <summary>Why the node could not run or reply for the task (not the task's own exception, which is in its values).</summary>
    [Id(3)] public Exception? Failure { get; init; }
}
