using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using RayOrleans.Runtime;
using RayOrleans.Serialization;

namespace RayOrleans;

/// <summary>A reference to an object in the cluster, of any type: what <c>Wait</c> and <c>Cancel</c> take.</summary>
public abstract class ObjectRef
{
    private protected ObjectRef(ObjectId id, RayRuntime? runtime)
    {
        _id = id;
        BoundRuntime = runtime;
        if (runtime is null)
        {
            GC.SuppressFinalize(this); // not counted: no runtime to count it in
        }
        else
        {
            _local = runtime.Owned.AddLocalRef(id, this);
        }
    }

    /// <summary>
    /// A counted ref releases its count when collected (as Ray's Java API uses phantom references): the last
    /// one frees an owned object that never left this process, or tells the directory this process no longer
    /// holds it (which frees it when nothing else does). A ref that alone holds its owned value suppresses
    /// this: both just go (see <c>OwnedObjects.AddLocalRef</c>).
    /// </summary>
    ~ObjectRef() => BoundRuntime?.Owned.ReleaseLater(_id);

    private readonly ObjectId _id;
    private OwnedObjects.Entry? _local;
    private bool _exposed;

    /// <summary>The object's id.</summary>
    public ObjectId Id
    {
        get
        {
            // Whoever takes the id may look the object up by it later: an owned entry this ref holds goes (back)
            // into the owner's table and stays there.
            if (_local is { } local && !Volatile.Read(ref _exposed))
            {
                _local = BoundRuntime!.Owned.Expose(_id, local, this);
                Volatile.Write(ref _exposed, true);
            }

            return _id;
        }
    }

    /// <summary>The id, for a reader that goes through <see cref="Local"/> when it is set (it does not expose the entry).</summary>
    internal ObjectId RawId => _id;

    /// <summary>The owned entry this ref reads directly (null for a ref to an object owned elsewhere).</summary>
    internal OwnedObjects.Entry? Local => _local;

    /// <summary>The runtime that made this ref, or that read it out of a value; null when neither is known.</summary>
    internal RayRuntime? BoundRuntime { get; }

    /// <summary>The runtime to resolve through: the one that made the ref, else the current one.</summary>
    internal RayRuntime Runtime => BoundRuntime ?? Ray.Current.Runtime;

    /// <inheritdoc />
    public override string ToString() => $"ObjectRef({_id})";
}

/// <summary>
/// A typed reference to an object that exists, or will, somewhere in the cluster. Await it (or pass it to
/// <c>Ray.GetAsync</c>) for the value; pass it as a task argument to make that task wait for it and
/// receive the value; put it inside another object and it stays a reference.
/// </summary>
/// <typeparam name="T">The object's type.</typeparam>
[JsonConverter(typeof(ObjectRefJsonConverterFactory))]
public sealed class ObjectRef<T> : ObjectRef
{
    internal ObjectRef(ObjectId id, RayRuntime? runtime) : base(id, runtime) { }

    /// <summary>Waits for the value; throws the task's typed failure if it failed.</summary>
    public TaskAwaiter<T> GetAwaiter() => GetAsync().GetAwaiter();

    /// <summary>Waits for the value, at most <paramref name="timeout"/> (then <see cref="GetTimeoutException"/>).</summary>
    public async Task<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (T)(await (Local is { } local && Runtime.TryGetOwned(local, RawId, typeof(T), timeout, cancellationToken) is { } owned
            ? owned
            : Runtime.GetAsync(Id, typeof(T), timeout, cancellationToken)).ConfigureAwait(false))!;
}
