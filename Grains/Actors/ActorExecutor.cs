using RayOrleans.Functions;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Runtime;

namespace RayOrleans.Actors;

/// <summary>
/// Runs an actor's user code on the thread pool, outside the grain's scheduler: builds the instance and
/// executes the calls the grain has put in order, replying to each with its result or error.
/// </summary>
internal sealed class ActorExecutor(LocalScheduler scheduler, Func<object?> instance, Action<PendingCall> replyDead, CancellationToken death)
{
    private RayRuntime Runtime => scheduler.NodeRuntime.Runtime;

    /// <summary>The GPU ids the actor holds for its life, seen by its constructor and methods.</summary>
    public string[] GpuIds { get; set; } = [];

    /// <summary>The actor's id, from its spec when it is built: the execute spans of its calls carry it.</summary>
    private ActorId? _actorId;

    public async Task<object> ConstructAsync(ActorSpec spec)
    {
        WorkerContext.Leave();
        _actorId = spec.ActorId;
        var ctor = FunctionInvoker.Get(spec.Constructor);
        var args = await scheduler.ResolveArgumentsAsync(spec.Args, ctor.ArgumentTypes, death).ConfigureAwait(false);
        new WorkerContext(Guid.Empty, spec.ClassName + ".ctor", Runtime, death, null, ResourceSet.Empty, GpuIds).Enter();
        return ctor.Invoke(null, args, death) ?? throw new InvalidOperationException("The constructor returned null.");
    }

    /// <summary>Runs one call and replies to it; never throws (a failure becomes the reply).</summary>
    public async Task ExecuteAsync(PendingCall pending)
    {
        var call = pending.Call;
        var inUserCode = false;
        // Started in this async method: the span is Activity.Current for the method's code (its calls and tasks
        // become its children) and is gone for the next call this runner takes.
        using var span = Telemetry.RayTracing.StartExecute(call, _actorId, scheduler.NodeRuntime.NodeId);
        try
        {
            var invoker = FunctionInvoker.Get(call.Method);
            if (invoker.ReturnKind == ReturnKind.Stream)
            {
                throw new NotSupportedException($"'{call.Name}' returns IAsyncEnumerable; streaming actor methods are not supported yet, use a streaming task.");
            }

            var args = await scheduler.ResolveArgumentsAsync(call.Args, invoker.ArgumentTypes, death).ConfigureAwait(false);
            var target = instance() ?? throw new InvalidOperationException("the actor has no instance");
            new WorkerContext(call.CallId, call.Name, Runtime, death, null, ResourceSet.Empty, GpuIds).Enter();
            inUserCode = true;
            var result = invoker.Invoke(target, args, death);
            if (invoker.ReturnKind == ReturnKind.Awaitable)
            {
                result = await invoker.Adapter.AwaitAsync(result).ConfigureAwait(false);
            }

            var values = await LocalScheduler.StoreReturnsAsync(Runtime, call.CallId, 1, invoker.ResultType, result).ConfigureAwait(false);
            pending.Reply.TrySetResult(values[0]);
        }
        catch (Exception) when (death.IsCancellationRequested)
        {
            replyDead(pending);
        }
        catch (Exception e)
        {
            // An exception in a method fails that call only; the actor lives on, as in Ray.
            var error = RayRuntime.DescribeFailure(e, inUserCode, call.Name, call.CallId, scheduler.NodeRuntime.NodeId);
            Telemetry.RayTracing.Failed(span, e);
            pending.Reply.TrySetResult(new ObjectValue { Error = error, ProducerNode = scheduler.NodeRuntime.NodeId });
        }
    }
}
