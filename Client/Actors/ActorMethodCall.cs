using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans;

/// <summary>An actor method call with its arguments bound; <see cref="Remote"/> sends it.</summary>
/// <remarks>
/// A struct: made and sent at each call site (<c>handle.Task(a =&gt; a.M()).Remote()</c>), so it costs no allocation.
/// Only values made by <see cref="ActorHandle{TActor}"/> can be sent; a <c>default</c> one throws.
/// </remarks>
/// <typeparam name="TR">The method's result type.</typeparam>
public readonly struct ActorMethodCall<TR>
{
    private readonly RayRuntime _runtime;
    private readonly ActorId _actor;
    private readonly Grains.IActorGrain _grain;
    private readonly CallSequence _sequence;
    private readonly Guid _caller;
    private readonly string _method;
    private readonly string _name;
    private readonly TaskArg[] _args;

    internal ActorMethodCall(RayRuntime runtime, ActorId actor, Grains.IActorGrain grain, Guid caller, CallSequence sequence, string method, string name, TaskArg[] args)
    {
        _runtime = runtime;
        _actor = actor;
        _grain = grain;
        _caller = caller;
        _sequence = sequence;
        _method = method;
        _name = name;
        _args = args;
    }

    /// <summary>Sends the call; the ref is ready when the method has run.</summary>
    public ObjectRef<TR> Remote()
    {
        if (_runtime is null)
        {
            throw new InvalidOperationException("This ActorMethodCall was not made by an ActorHandle (it is a default value); make calls with handle.Task(a => a.Method(...)).");
        }

        var worker = WorkerContext.Current;
        var call = new ActorCall
        {
            CallId = UniqueIds.Next(), Method = _method, Name = _name, Args = _args, CallerId = _caller,
            Sequence = _sequence.Next(), ParentTaskId = worker?.TaskId ?? Guid.Empty, JobId = worker?.JobId ?? _runtime.JobId,
        };
        _runtime.SubmitActorCall(_actor, _grain, call);
        return new ObjectRef<TR>(new ObjectId(call.CallId, 1), _runtime);
    }
}
