using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// One shard of the object directory (Ray's object table): id to value or location or error, for the ids
/// whose task id hashes to this shard. Waiters park here until an object is published.
/// </summary>
public interface IObjectDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Records that an object is ready (or failed). Publishing the same id again keeps the first value.</summary>
    [AlwaysInterleave]
    Task PublishAsync(ObjectId id, ObjectValue value);

    /// <summary>Records several objects at once.</summary>
    [AlwaysInterleave]
    Task PublishManyAsync(KeyValuePair<ObjectId, ObjectValue>[] values);

    /// <summary>The object's record once it is ready, or null if it is still not ready after <paramref name="maxWait"/>.</summary>
    [AlwaysInterleave]
    Task<ObjectValue?> WaitAsync(ObjectId id, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>The record of an object without waiting; null when not ready.</summary>
    [AlwaysInterleave]
    Task<ObjectValue?> TryGetAsync(ObjectId id);

    /// <summary>Which of <paramref name="ids"/> are ready (or failed), in the given order.</summary>
    [AlwaysInterleave]
    Task<ObjectId[]> FilterReadyAsync(ObjectId[] ids);

    /// <summary>
    /// Applies reference changes and publishes, in order (one process's changes for this shard). When the last
    /// reference to an object goes, its copies are freed and what it contains is released. A sender numbers
    /// its messages in the order it sends them (<paramref name="sequence"/>, rising); a message resent after a
    /// timeout whose first delivery was applied is ignored, so no change counts twice.
    /// </summary>
    [AlwaysInterleave]
    Task ApplyAsync(string sender, long sequence, DirectoryOp[] ops);

    /// <summary>
    /// A reader (not the owner) could not read the copy at <paramref name="lostLocation"/>: the object becomes
    /// pending again and its owner is asked to make it again; readers then wait for the new record, which is
    /// the error saying why when it cannot be made. False when the directory has no record of it.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> ReportLostAsync(ObjectId id, string? lostLocation);

    /// <summary>
    /// A draining node moved these objects' primary copies: records that point at the old node point at the new one
    /// (and no longer list it as a copy).
    /// </summary>
    [AlwaysInterleave]
    Task MovedAsync(ObjectMove[] moves);

    /// <summary>The directory's record of an object (owner, holders, location), or null when it has none.</summary>
    [AlwaysInterleave]
    Task<ObjectRecordInfo?> DescribeAsync(ObjectId id);

    /// <summary>How many objects this shard records.</summary>
    [AlwaysInterleave]
    Task<int> CountAsync();
}
