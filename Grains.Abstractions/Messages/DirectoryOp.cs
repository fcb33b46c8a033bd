namespace RayOrleans.Messages;

/// <summary>What a <see cref="DirectoryOp"/> does to the directory's record of an object.</summary>
public enum DirectoryOpKind
{
    /// <summary>One more reference from <see cref="DirectoryOp.Holder"/> keeps the object alive.</summary>
    AddRef,

    /// <summary>One reference from <see cref="DirectoryOp.Holder"/> went; the last one frees every copy.</summary>
    RemoveRef,

    /// <summary>The object is ready: <see cref="DirectoryOp.Value"/> is its record (the first one wins).</summary>
    Publish,

    /// <summary>
    /// The owner exited and handed the task making the object to <see cref="DirectoryOp.Node"/>, which
    /// publishes it: while readers wait, the directory checks that node instead of the owner.
    /// </summary>
    HandedOff,

    /// <summary>
    /// The owner is making the object again because its copy on <see cref="DirectoryOp.Node"/> was lost: the
    /// record becomes pending until the new one is published.
    /// </summary>
    Reset,

    /// <summary><see cref="DirectoryOp.Node"/> pulled a copy of the object (recorded when the directory has a record of it).</summary>
    AddCopy,

    /// <summary>
    /// After a node died (and maybe its directory shards with it): the sender re-registers what it is the source of
    /// truth for. <see cref="DirectoryOp.Holder"/>, when given, holds the object (counted once, however often it is
    /// sent: a shard that survived keeps its count); <see cref="DirectoryOp.Owner"/> and the rest name the owner;
    /// <see cref="DirectoryOp.Node"/>, when given, is the node an exited owner handed the task making it to.
    /// </summary>
    Restore,
}

/// <summary>
/// One change to the object directory. A process sends its changes in order, batched per shard, so a
/// reference it adds is counted before one it removes; the directory frees an object (every copy, and the
/// references held by what it contains) when the last reference to it goes.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.DirectoryOp")]
public readonly record struct DirectoryOp
{
    /// <summary>What to do.</summary>
    [Id(0)] public DirectoryOpKind Kind { get; init; }

    /// <summary>The object.</summary>
    [Id(1)] public ObjectId Id { get; init; }

    /// <summary>
    /// Who holds the reference: <c>process:</c> a runtime's live <c>ObjectRef</c>s, <c>object:</c> a stored
    /// object whose value contains the ref, <c>actor:</c> an actor's constructor arguments, <c>handoff:</c> a task
    /// handed to its node by an exited owner.
    /// </summary>
    [Id(2)] public string? Holder { get; init; }

    /// <summary>For <see cref="DirectoryOpKind.Publish"/>: the record.</summary>
    [Id(3)] public ObjectValue? Value { get; init; }

    /// <summary>For the owner's first reference: the owning runtime, named in the memory view.</summary>
    [Id(4)] public string? Owner { get; init; }

    /// <summary>For the owner's first reference: what made the object (a task's or actor method's name, or "put").</summary>
    [Id(5)] public string? Creator { get; init; }

    /// <summary>
    /// For <see cref="DirectoryOpKind.AddCopy"/>: the node holding the new copy; for <see cref="DirectoryOpKind.HandedOff"/>
    /// and <see cref="DirectoryOpKind.Restore"/>: the node publishing it; for <see cref="DirectoryOpKind.Reset"/>: the lost copy's.
    /// </summary>
    [Id(6)] public string? Node { get; init; }

    /// <summary>For the owner's first reference: how the directory reaches the owner (rebuilds, frees, liveness).</summary>
    [Id(7)] public Grains.IObjectOwner? OwnerRef { get; init; }
}
