using Orleans.Concurrency;
using RayOrleans.Messages;

namespace RayOrleans.Grains;

/// <summary>
/// The node (Ray's raylet) of one silo: its task queue, its resources and its object store. The key is the
/// silo's address, and the grain is always activated on that silo.
/// </summary>
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs a task here (or on a node this one passes it to) and replies with its returns when it has run:
    /// each inline when small, else the node whose store holds it, or the error that stands in its place.
    /// A streaming generator's values go to the object directory instead, and the reply is empty. The reply
    /// is the owner's copy of the result, so the call stays open while the task is queued and runs.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout(RayTimeouts.LongCall)]
    Task<ObjectValue[]> ExecuteAsync(TaskSpec task);

    /// <summary>
    /// Takes several tasks in one message and replies as soon as they are queued; each task's reply goes to
    /// <paramref name="owner"/> when it has run, batched with the other replies ready at that moment
    /// (<see cref="IObjectOwner.TasksRepliedAsync"/>). What a task replies is what <see cref="ExecuteAsync"/> would:
    /// a process sending many tasks to another process pays one message per batch each way instead of one per task.
    /// </summary>
    /// <remarks>
    /// It times out after 10 s (a batch lost with a gateway that died would otherwise hold the driver's next batches
    /// to this node): the tasks may have arrived, so the driver leaves them to its check for lost replies.
    /// </remarks>
    [AlwaysInterleave, ResponseTimeout("00:00:10")]
    Task SubmitAsync(TaskSpec[] tasks, IObjectOwner owner);

    /// <summary>
    /// Which of <paramref name="taskIds"/> this node still holds (queued, running, or passed on and awaiting the
    /// other node's reply). An owner whose reply never came (lost with a gateway that died while carrying it)
    /// learns from this that the task is done here and the reply is gone.
    /// </summary>
    [AlwaysInterleave]
    Task<Guid[]> HeldAsync(Guid[] taskIds);

    /// <summary>The named actors of <paramref name="namespace"/> alive on this node (a registry rebuilding its names asks).</summary>
    [AlwaysInterleave]
    Task<NamedActor[]> NamedActorsAsync(string @namespace);

    /// <summary>Cancels a queued or running task; with <paramref name="recursive"/>, also the tasks it submitted.</summary>
    [AlwaysInterleave]
    Task<bool> CancelAsync(Guid taskId, bool force, bool recursive);

    /// <summary>
    /// The owner of these tasks' results is exiting, and refs to them live on elsewhere: when each finishes,
    /// this node publishes its returns to the object directory instead. Returns the ids it does not have
    /// (finished already, or never here).
    /// </summary>
    [AlwaysInterleave]
    Task<Guid[]> HandOffAsync(Guid[] taskIds);

    /// <summary>
    /// On the node holding an object's primary copy: where <paramref name="requester"/> should pull the object
    /// from (this node, or a node that pulled a copy already and is less busy), counting the pull there; busy
    /// when every source serves its most pulls at once (ask again shortly); null when this node no longer
    /// has the object. Report the end with <see cref="PullEndedAsync"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<PullSource?> PickPullSourceAsync(ObjectId id, string requester);

    /// <summary>
    /// A pull chosen by <see cref="PickPullSourceAsync"/> ended: <paramref name="copyNode"/> now holds a copy
    /// (null when none was kept), or <paramref name="sourceFailed"/> says the source could not be read. False
    /// when the object was freed meanwhile: the puller frees its copy.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> PullEndedAsync(ObjectId id, string source, string? copyNode, bool sourceFailed);

    /// <summary>Reads part of an object held in this node's store.</summary>
    [AlwaysInterleave]
    Task<byte[]> ReadObjectAsync(ObjectId id, long offset, int count);

    /// <summary>Writes part of an object into this node's store (large puts from clients); the last chunk seals it.</summary>
    [AlwaysInterleave]
    Task WriteObjectAsync(ObjectId id, long totalSize, long offset, byte[] chunk);

    /// <summary>
    /// Reserves room for an object that a driver on this host writes itself: returns the path of a segment
    /// file (pooled when one fits) for the driver to map and fill, then <see cref="SealObjectAsync"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<string> ReserveObjectAsync(ObjectId id, long size);

    /// <summary>The driver finished writing a reserved object: it becomes readable.</summary>
    [AlwaysInterleave]
    Task SealObjectAsync(ObjectId id);

    /// <summary>
    /// Pins an object for a reader on this host and returns its segment file's path (null when the object
    /// is not here); the reader maps it, reads, and calls <see cref="EndObjectLeaseAsync"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<string?> BeginObjectLeaseAsync(ObjectId id);

    /// <summary>Ends a lease from <see cref="BeginObjectLeaseAsync"/>.</summary>
    [AlwaysInterleave, OneWay]
    Task EndObjectLeaseAsync(ObjectId id);

    /// <summary>
    /// A task that ran here ended but its reply was lost (its owner found it no longer held): frees the returns it
    /// stored here, which nobody can read, and answers the number of its last attempt this node recorded (its
    /// owner's attempt plus this node's own retries on exceptions; -1 when none is kept), so the owner numbers the
    /// next attempt after it. Answered after the free, so a retry sent after the answer stores its own copy.
    /// </summary>
    [AlwaysInterleave]
    Task<int> ReleaseUnrepliedAsync(Guid taskId, int numReturns);

    /// <summary>Frees objects held in this node's store (their owner dropped them).</summary>
    [AlwaysInterleave, OneWay]
    Task FreeObjectsAsync(ObjectId[] ids);

    /// <summary>A streaming generator's consumer reports how many values it has taken, releasing backpressure.</summary>
    [AlwaysInterleave, OneWay]
    Task AcknowledgeGeneratorAsync(Guid taskId, int consumed);

    /// <summary>This node's object store: usage and its <paramref name="top"/> largest objects.</summary>
    [AlwaysInterleave]
    Task<NodeMemory> GetMemoryAsync(int top);

    /// <summary>
    /// Reserves bundle <paramref name="index"/> of placement group <paramref name="group"/> here if the node
    /// has room for it now; false (reserving nothing) otherwise. Reserving again what is held returns true.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> ReserveBundleAsync(Guid group, int index, ResourceSet demand);

    /// <summary>Gives back every bundle of <paramref name="group"/> held here (each once the work in it has stopped).</summary>
    [AlwaysInterleave]
    Task ReturnBundlesAsync(Guid group);

    /// <summary>
    /// Gives back bundle <paramref name="index"/> of <paramref name="group"/> only, if held here: a group whose
    /// re-placement of lost bundles failed half way takes back what it just reserved and keeps the rest.
    /// </summary>
    [AlwaysInterleave]
    Task ReturnBundleAsync(Guid group, int index);

    /// <summary>
    /// The state API's task rows this node has (Ray's <c>list_tasks</c>): its queued and running tasks and
    /// actor calls, then the ended attempts it keeps, newest first, those matching <paramref name="query"/>, at
    /// most its <c>Limit</c>.
    /// </summary>
    [AlwaysInterleave]
    Task<TaskState[]> ListTasksAsync(TaskQuery query);

    /// <summary>Counts of this node's tasks by name, type and state, ended ones counted since the node started.</summary>
    [AlwaysInterleave]
    Task<TaskSummary[]> SummarizeTasksAsync();

    /// <summary>The actors this node hosts or hosted (the dead it keeps), those matching <paramref name="query"/>.</summary>
    [AlwaysInterleave]
    Task<ActorInfo[]> ListActorsAsync(ActorQuery query);

    /// <summary>
    /// A job ended (its driver exited or was stopped): the node unloads the job's shipped code once its last
    /// task here ends and its last actor here dies (detached actors keep it loaded while they live).
    /// </summary>
    [AlwaysInterleave, OneWay]
    Task JobEndedAsync(string jobId);

    /// <summary>
    /// The size in bytes of shipped code package <paramref name="hash"/> (SHA-256, hex) as this node keeps it since
    /// it unpacked it, or -1 when it does not: a node whose read of the package from the object store fails (its
    /// only copy died with a node) asks the others (<see cref="ReadCodePackageAsync"/>).
    /// </summary>
    [AlwaysInterleave]
    Task<long> CodePackageSizeAsync(string hash);

    /// <summary>Up to <paramref name="count"/> bytes (at most 4 MiB) of code package <paramref name="hash"/> from <paramref name="offset"/>; null when this node does not keep it.</summary>
    [AlwaysInterleave]
    Task<byte[]?> ReadCodePackageAsync(string hash, long offset, int count);

    /// <summary>Sends the task output this node still holds to the jobs' log grains now, and returns once sent.</summary>
    [AlwaysInterleave]
    Task FlushTaskLogsAsync();

    /// <summary>The placement groups with a bundle reserved on this node.</summary>
    [AlwaysInterleave]
    Task<Guid[]> PlacementGroupsAsync();

    /// <summary>Attempt ends an owner saw (lost with a node, failed before reaching one), kept here for the state API.</summary>
    [AlwaysInterleave, OneWay]
    Task ReportTaskEventsAsync(TaskState[] events);

    /// <summary>
    /// Drains this node (Ray's DrainNode), or reports how far the drain is: the first call marks the node draining
    /// (its report says so, so placement leaves it out, and work that still arrives is passed on), then moves the
    /// primary copies in its store to other nodes and drops the secondary ones. Asked again until
    /// <see cref="DrainStatus.Drained"/> or <see cref="DrainStatus.Failure"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<DrainStatus> DrainAsync();

    /// <summary>Ends a drain: the node takes work again and keeps the objects it still has.</summary>
    [AlwaysInterleave]
    Task CancelDrainAsync();

    /// <summary>
    /// Takes over the primary copy of <paramref name="id"/> from the draining node <paramref name="from"/>: pulls it
    /// (or promotes the copy it has) and becomes the node that serves and frees it, with <paramref name="copies"/>
    /// as the copies other nodes hold. Throws when it cannot (no room, the pull failed).
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:05:00")]
    Task AdoptObjectAsync(ObjectId id, long size, string from, string[] copies);

    /// <summary>A draining node moved these objects: this node's runtime updates the records of the ones it owns.</summary>
    [AlwaysInterleave]
    Task<int> ObjectsMovedAsync(ObjectMove[] moves);

    /// <summary>This node's resources and load right now.</summary>
    [AlwaysInterleave]
    Task<NodeReport> GetReportAsync();
}
