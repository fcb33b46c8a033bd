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

    /// <summary>The actor's job (its creator's): work its methods submit belongs to it.</summary>
    public string JobId { get; private set; } = "";

    public ActorId ActorId { get; private set; }

    /// <summary>The job's shipped code the actor's class comes from, held while the actor lives; null for code the node has.</summary>
    private JobLoadContext? _code;
    private CodePackage? _package;

    /// <summary>The actor died: its job's code may be unloaded once nothing else uses it.</summary>
    public void ReleaseCode() => Interlocked.Exchange(ref _code, null)?.Release();

    private FunctionInvoker InvokerOf(string key) => _code is { } code ? code.Invoker(key) : FunctionInvoker.Get(key);

    /// <summary>A call of this actor as the state API shows it.</summary>
    public static TaskState Describe(PendingCall pending, ActorId actor, string node, string state, RayErrorInfo? error) =>
        Ended(pending, actor, node, state, error).ToState();

    private static Node.TaskEvents.Ended Ended(PendingCall pending, ActorId actor, string node, string state, RayErrorInfo? error)
    {
        var call = pending.Call;
        return new Node.TaskEvents.Ended
        {
            TaskId = call.CallId, Attempt = call.Attempt, Name = call.Name, Type = TaskKinds.ActorTask, State = state, JobId = call.JobId,
            ActorId = actor.Value, ParentTaskId = call.ParentTaskId, NodeId = node, CreationTime = pending.CreationTime, StartTime = pending.StartTime,
            EndTime = state is TaskStates.Finished or TaskStates.Failed ? DateTime.UtcNow : null, ErrorType = error?.ExceptionType, ErrorMessage = error?.Message,
        };
    }

    /// <summary>Replies to a call and records its end for the state API (once: the first reply counts).</summary>
    public void Reply(PendingCall pending, ObjectValue value)
    {
        if (pending.TryReply(value))
        {
            if (pending.Context is { JobId.Length: > 0 } context)
            {
                context.FlushPendingOutput(); // a last Console.Write without a newline
            }

            scheduler.Events.Add(Ended(pending, ActorId, scheduler.NodeRuntime.NodeId, value.Error is null ? TaskStates.Finished : TaskStates.Failed, value.Error));
        }
    }

    public async Task<object> ConstructAsync(ActorSpec spec)
    {
        WorkerContext.Leave();
        using var span = Telemetry.RayTracing.StartConstruct(spec, scheduler.NodeRuntime.NodeId); // the constructor's code runs inside it
        JobId = spec.JobId;
        ActorId = spec.ActorId;
        if (spec.Code is { } package && _code is null)
        {
            _package = package;
            _code = await scheduler.Code.AcquireAsync(package, spec.JobId, death).ConfigureAwait(false); // a restart reuses it
            if (death.IsCancellationRequested)
            {
                ReleaseCode(); // it died while its code loaded: DieAsync's release may have come first
                death.ThrowIfCancellationRequested();
            }
        }

        var ctor = InvokerOf(spec.Constructor);
        var args = await scheduler.ResolveArgumentsAsync(spec.Args, ctor.ArgumentTypes, death).ConfigureAwait(false);
        new WorkerContext(Guid.Empty, spec.ClassName + ".ctor", Runtime, death, null, ResourceSet.Empty, GpuIds) { JobId = JobId, Code = _package }.Enter();
        return ctor.Invoke(null, args, death) ?? throw new InvalidOperationException("The constructor returned null.");
    }

    /// <summary>Runs one call and replies to it; never throws (a failure becomes the reply).</summary>
    public async Task ExecuteAsync(PendingCall pending)
    {
        var call = pending.Call;
        var inUserCode = false;
        // Started in this async method: the span is Activity.Current for the method's code (its calls and tasks
        // become its children) and is gone for the next call this runner takes.
        using var span = Telemetry.RayTracing.StartExecute(call, ActorId, scheduler.NodeRuntime.NodeId);
        try
        {
            var invoker = InvokerOf(call.Method);
            if (invoker.ReturnKind == ReturnKind.Stream)
            {
                throw new NotSupportedException($"'{call.Name}' returns IAsyncEnumerable; streaming actor methods are not supported yet, use a streaming task.");
            }

            var args = await scheduler.ResolveArgumentsAsync(call.Args, invoker.ArgumentTypes, death).ConfigureAwait(false);
            var target = instance() ?? throw new InvalidOperationException("the actor has no instance");
            var context = new WorkerContext(call.CallId, call.Name, Runtime, death, null, ResourceSet.Empty, GpuIds) { JobId = JobId, Code = _package };
            pending.Context = context;
            context.Enter();
            inUserCode = true;
            pending.StartTime = DateTime.UtcNow;
            var result = invoker.Invoke(target, args, death);
            if (invoker.ReturnKind == ReturnKind.Awaitable)
            {
                result = await invoker.Adapter.AwaitAsync(result).ConfigureAwait(false);
            }

            Reply(pending, await Runtime.StoreValueAsync(new ObjectId(call.CallId, 1), result, invoker.ResultType).ConfigureAwait(false));
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
            Reply(pending, new ObjectValue { Error = error, ProducerNode = scheduler.NodeRuntime.NodeId });
        }
    }
}
