using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// The node (Ray's raylet) of one silo: its task queue, its resources and its object store. The key is the
/// silo's address, and the grain is always activated on that silo.
/// </summary>
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>Queues a task; returns once it is queued, not when it has run.</summary>
    Task SubmitAsync(TaskSpec task);

    /// <summary>Queues several tasks in one message.</summary>
    Task SubmitManyAsync(TaskSpec[] tasks);

    /// <summary>Cancels a queued or running task; with <paramref name="recursive"/>, also the tasks it submitted.</summary>
    [AlwaysInterleave]
    Task<bool> CancelAsync(Guid taskId, bool force, bool recursive);

    /// <summary>Which of <paramref name="taskIds"/> this node holds, queued or running (a task passed on here by a node that died is still here).</summary>
    [AlwaysInterleave]
    Task<Guid[]> FilterKnownTasksAsync(Guid[] taskIds);

    /// <summary>Reads part of an object held in this node's store.</summary>
    [AlwaysInterleave]
    Task<byte[]> ReadObjectAsync(ObjectId id, long offset, int count);

    /// <summary>Writes part of an object into this node's store (large puts from clients); the last chunk seals it.</summary>
    [AlwaysInterleave]
    Task WriteObjectAsync(ObjectId id, long totalSize, long offset, byte[] chunk);

    /// <summary>A streaming generator's consumer reports how many values it has taken, releasing backpressure.</summary>
    [AlwaysInterleave, OneWay]
    Task AcknowledgeGeneratorAsync(Guid taskId, int consumed);

    /// <summary>This node's resources and load right now.</summary>
    [AlwaysInterleave]
    Task<NodeReport> GetReportAsync();
}
