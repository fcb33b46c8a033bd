namespace RayOrleans.Messages;

/// <summary>
/// One attempt of a task or actor call as the state API reports it (Ray's <c>ray.util.state</c> TaskState):
/// where it ran, what state it is in, when it changed, and why it failed. A task retried after its node
/// died or its code threw has a row per attempt, so its history reads in order of <see cref="Attempt"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.TaskState")]
public sealed record TaskState
{
    /// <summary>The task's (or actor call's) id.</summary>
    [Id(0)] public required Guid TaskId { get; init; }

    /// <summary>0 for the first run, then one more for each retry.</summary>
    [Id(1)] public int Attempt { get; init; }

    /// <summary>The task's name (Type.Method, or the option <c>Name</c>).</summary>
    [Id(2)] public required string Name { get; init; }

    /// <summary><see cref="TaskKinds.NormalTask"/>, <see cref="TaskKinds.ActorTask"/> or <see cref="TaskKinds.ActorCreationTask"/>.</summary>
    [Id(3)] public required string Type { get; init; }

    /// <summary>One of <see cref="TaskStates"/>.</summary>
    [Id(4)] public required string State { get; init; }

    /// <summary>The job it belongs to (empty for the cluster's own work).</summary>
    [Id(5)] public string JobId { get; init; } = "";

    /// <summary>The actor, for an actor call or creation.</summary>
    [Id(6)] public Guid? ActorId { get; init; }

    /// <summary>The task that submitted it; empty from a driver.</summary>
    [Id(7)] public Guid ParentTaskId { get; init; }

    /// <summary>The node that ran (or holds) this attempt; null when it never reached one.</summary>
    [Id(8)] public string? NodeId { get; init; }

    /// <summary>When the node received it (UTC).</summary>
    [Id(9)] public DateTime? CreationTime { get; init; }

    /// <summary>When its code started (UTC).</summary>
    [Id(10)] public DateTime? StartTime { get; init; }

    /// <summary>When it ended (UTC).</summary>
    [Id(11)] public DateTime? EndTime { get; init; }

    /// <summary>The failure's exception type (for example <c>RayOrleans.NodeDied</c>), when it failed.</summary>
    [Id(12)] public string? ErrorType { get; init; }

    /// <summary>The failure's message, when it failed.</summary>
    [Id(13)] public string? ErrorMessage { get; init; }

    /// <summary>True when this attempt failed and the task was (or is being) run again.</summary>
    [Id(14)] public bool Retried { get; init; }

    /// <summary>Whether this state is final for its attempt.</summary>
    public bool IsTerminal => State is TaskStates.Finished or TaskStates.Failed;
}

/// <summary>Task states as Ray's state API names them.</summary>
public static class TaskStates
{
    /// <summary>Waiting for its ref arguments to be ready.</summary>
    public const string PendingArgsAvail = "PENDING_ARGS_AVAIL";
    /// <summary>Arguments ready; waiting for resources (or for a node that can hold it).</summary>
    public const string PendingNodeAssignment = "PENDING_NODE_ASSIGNMENT";
    /// <summary>Its code is running.</summary>
    public const string Running = "RUNNING";
    /// <summary>Returned; its results are stored.</summary>
    public const string Finished = "FINISHED";
    /// <summary>Threw, was cancelled, or was lost with its node.</summary>
    public const string Failed = "FAILED";
}

/// <summary>Task types as Ray's state API names them.</summary>
public static class TaskKinds
{
    /// <summary>A remote function.</summary>
    public const string NormalTask = "NORMAL_TASK";
    /// <summary>A method call on an actor.</summary>
    public const string ActorTask = "ACTOR_TASK";
    /// <summary>An actor's constructor (reserved: creations are not listed as tasks yet; <c>ListActorsAsync</c> shows them).</summary>
    public const string ActorCreationTask = "ACTOR_CREATION_TASK";
}
