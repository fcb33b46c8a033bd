using System.Linq.Expressions;
using System.Text.Json.Serialization;
using RayOrleans.Runtime;
using RayOrleans.Serialization;

namespace RayOrleans;

/// <summary>
/// A handle to a remote actor. <c>handle.Task(a =&gt; a.Method(args)).Remote()</c> calls a method and returns
/// the ref of its result; calls through one handle run in the order they were made. Handles can be passed
/// to tasks and other actors and used there.
/// </summary>
/// <typeparam name="TActor">The actor's class.</typeparam>
[JsonConverter(typeof(ActorHandleJsonConverterFactory))]
public sealed partial class ActorHandle<TActor>
{
    /// <summary>Numbers this handle's calls in the order they were made (shared by the calls, not a delegate per call).</summary>
    internal CallSequence Sequence { get; } = new();

    internal ActorHandle(ActorId id, RayRuntime? runtime)
    {
        Id = id;
        BoundRuntime = runtime;
    }

    /// <summary>The actor's id.</summary>
    public ActorId Id { get; }

    /// <summary>Identifies this handle as a caller: the actor orders each caller's calls separately.</summary>
    internal Guid CallerId { get; } = Guid.NewGuid();

    internal RayRuntime? BoundRuntime { get; }

    internal RayRuntime Runtime => BoundRuntime ?? Ray.Current.Runtime;


    /// <summary>The actor's grain, looked up once per handle (GetGrain costs about as much as a call).</summary>
    internal Grains.IActorGrain Grain => _grain ??= Runtime.Actor(Id);

    private Grains.IActorGrain? _grain;

    /// <summary>Prepares a call of the method in <paramref name="method"/> (e.g. <c>c =&gt; c.Add(5)</c>); arguments are evaluated here, now.</summary>
    public ActorMethodCall<TR> Task<TR>(Expression<Func<TActor, TR>> method) => ActorCallFactory.Create<TActor, TR>(this, method, []);

    /// <summary>Prepares a call of an async method (e.g. <c>c =&gt; c.LoadAsync(path)</c>); it is awaited on the actor.</summary>
    public ActorMethodCall<TR> Task<TR>(Expression<Func<TActor, Task<TR>>> method) => ActorCallFactory.Create<TActor, TR>(this, method, []);

    /// <summary>Prepares a call of a ValueTask-returning method; it is awaited on the actor.</summary>
    public ActorMethodCall<TR> Task<TR>(Expression<Func<TActor, ValueTask<TR>>> method) => ActorCallFactory.Create<TActor, TR>(this, method, []);

    /// <inheritdoc />
    public override string ToString() => $"ActorHandle<{typeof(TActor).Name}>({Id})";
}
