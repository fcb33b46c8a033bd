namespace RayOrleans.Messages;

/// <summary>
/// What a state API listing of tasks asks for (Ray's <c>list_tasks</c> filters): every property set must
/// match (names and states exactly, ignoring case); null properties match anything.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.TaskQuery")]
public sealed record TaskQuery
{
    /// <summary>Only tasks in this state (see <see cref="TaskStates"/>).</summary>
    [Id(0)] public string? State { get; init; }

    /// <summary>Only tasks of this name.</summary>
    [Id(1)] public string? Name { get; init; }

    /// <summary>Only tasks of this job.</summary>
    [Id(2)] public string? JobId { get; init; }

    /// <summary>Only this task (every attempt of it).</summary>
    [Id(3)] public Guid? TaskId { get; init; }

    /// <summary>Only calls on this actor (and its creation).</summary>
    [Id(4)] public Guid? ActorId { get; init; }

    /// <summary>Only tasks of this type (see <see cref="TaskKinds"/>).</summary>
    [Id(5)] public string? Type { get; init; }

    /// <summary>At most this many rows, newest first. Default 100.</summary>
    [Id(6)] public int Limit { get; init; } = 100;

    /// <summary>Whether <paramref name="task"/> matches every filter set.</summary>
    public bool Matches(TaskState task) =>
        (State is null || string.Equals(State, task.State, StringComparison.OrdinalIgnoreCase)) &&
        (Name is null || string.Equals(Name, task.Name, StringComparison.OrdinalIgnoreCase)) &&
        (JobId is null || string.Equals(JobId, task.JobId, StringComparison.OrdinalIgnoreCase)) &&
        (TaskId is null || TaskId == task.TaskId) &&
        (ActorId is null || ActorId == task.ActorId) &&
        (Type is null || string.Equals(Type, task.Type, StringComparison.OrdinalIgnoreCase));
}

/// <summary>How many tasks of one name are in one state (Ray's <c>summarize_tasks</c>), counting those the listing has dropped.</summary>
[GenerateSerializer, Immutable, Alias("ray.TaskSummary")]
public sealed record TaskSummary(
    [property: Id(0)] string Name,
    [property: Id(1)] string Type,
    [property: Id(2)] string State,
    [property: Id(3)] long Count);
