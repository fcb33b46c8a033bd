namespace RayOrleans;

/// <summary>
/// Identifies one object in the cluster. Objects produced by a task share the task's id and differ by
/// <see cref="Index"/> (1-based return position; 0 is reserved for a streaming generator's end record),
/// so all returns of one task land in the same directory shard.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ObjectId")]
public readonly record struct ObjectId
{
    /// <summary>Creates an object id.</summary>
    public ObjectId(Guid taskId, int index)
    {
        TaskId = taskId;
        Index = index;
    }

    /// <summary>The task (or put) that produced the object.</summary>
    [Id(0)] public Guid TaskId { get; init; }

    /// <summary>Position among the producer's outputs.</summary>
    [Id(1)] public int Index { get; init; }

    /// <summary>A fresh id for an object created by <c>Put</c>.</summary>
    public static ObjectId NewPut() => new(UniqueIds.Next(), 1);

    /// <inheritdoc />
    public override string ToString() => $"{TaskId:N}:{Index}";

    /// <summary>Parses the form written by <see cref="ToString"/>.</summary>
    public static ObjectId Parse(string text)
    {
        var colon = text.IndexOf(':');
        if (colon < 0 || !Guid.TryParseExact(text.AsSpan(0, colon), "N", out var task) ||
            !int.TryParse(text.AsSpan(colon + 1), out var index))
        {
            throw new FormatException($"'{text}' is not an object id (expected '<32 hex digits>:<index>').");
        }

        return new ObjectId(task, index);
    }
}
