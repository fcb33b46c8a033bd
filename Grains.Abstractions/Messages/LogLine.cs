namespace RayOrleans.Messages;

/// <summary>
/// One line a task or actor wrote (to the console, or through <c>Ray.GetLogger</c>), as its driver prints it
/// (Ray's log_to_driver): who wrote it, where, and when.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.LogLine")]
public sealed record LogLine
{
    /// <summary>When it was written (UTC).</summary>
    [Id(0)] public DateTime Time { get; init; }

    /// <summary>The task or actor method that wrote it (Type.Method).</summary>
    [Id(1)] public required string Source { get; init; }

    /// <summary>The node it ran on.</summary>
    [Id(2)] public required string NodeId { get; init; }

    /// <summary>The node's process id.</summary>
    [Id(3)] public int Pid { get; init; }

    /// <summary>True for standard error and log entries at warning level or above.</summary>
    [Id(4)] public bool IsError { get; init; }

    /// <summary>The line, without its newline.</summary>
    [Id(5)] public required string Text { get; init; }

    /// <summary>The task (or actor call) id.</summary>
    [Id(6)] public Guid TaskId { get; init; }

    /// <summary>The line as Ray's drivers print it: <c>(Source pid=N, node=host:port) text</c>.</summary>
    public override string ToString()
    {
        var at = NodeId.IndexOf('@', StringComparison.Ordinal);
        return $"({Source} pid={Pid}, node={(at > 0 ? NodeId[..at] : NodeId)}) {Text}";
    }
}
