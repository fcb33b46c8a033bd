using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// A runtime that owns objects, as the object directory reaches it (a grain observer: drivers are Orleans
/// clients). The directory asks it to make an object again when a borrower finds the copy lost, tells it
/// when an object it shared is freed, and checks that it is alive while readers wait for its objects.
/// </summary>
public interface IObjectOwner : IGrainObserver
{
    /// <summary>
    /// The copy of <paramref name="id"/> at <paramref name="lostLocation"/> cannot be read: make it again
    /// (lineage) and publish it. Returns null when it is being made (or was already), else why it cannot be.
    /// </summary>
    [AlwaysInterleave]
    Task<string?> RebuildAsync(ObjectId id, string? lostLocation);

    /// <summary>The directory freed these objects (their last holder went): the owner forgets their lineage.</summary>
    [AlwaysInterleave, OneWay]
    Task ObjectsFreedAsync(ObjectId[] ids);

    /// <summary>
    /// A draining node moved these objects' primary copies: the owner points its records of the ones it owns at
    /// their new node. Returns how many it owns.
    /// </summary>
    [AlwaysInterleave]
    Task<int> ObjectsMovedAsync(ObjectMove[] moves);

    /// <summary>
    /// Replies of tasks this owner submitted in batches (<see cref="INodeGrain.SubmitAsync"/>). The node sends the
    /// next batch when this one is acknowledged; a batch lost on its way is found as lost replies are (the owner asks
    /// the node which tasks it still holds). A batch is sent again when it times out (its route to a driver went
    /// with a gateway that died), and a reply that comes twice is taken once.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task TasksRepliedAsync(TaskReply[] replies);

    /// <summary>Answers while the owner lives.</summary>
    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task PingAsync();
}
