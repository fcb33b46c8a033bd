using RayOrleans.Functions;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Tasks;

/// <summary>
/// A remote function call with its arguments bound, not yet submitted: set <see cref="Options"/> if needed,
/// then <see cref="Remote"/> submits it and returns the ref of its result at once.
/// </summary>
/// <typeparam name="TR">The function's result type.</typeparam>
public sealed class RemoteFunction<TR>
{
    private readonly Ray _ray;
    private readonly FunctionDescriptor _function;
    private readonly TaskArg[] _args;
    private TaskOptions _options = DefaultOptions;
    private ResourceSet _resources = DefaultResources;
    private string[]? _retryTypes;

    /// <summary>The arguments are the items of the function's one array parameter (<see cref="TaskSpec.GatherArgs"/>).</summary>
    private readonly bool _gatherArgs;

    internal static readonly TaskOptions DefaultOptions = new();

    // Built once: a demand is two dictionaries, which per task was a tenth of what a task allocated.
    private static readonly ResourceSet DefaultResources = DefaultOptions.ToResourceSet();

    internal RemoteFunction(Ray ray, FunctionDescriptor function, TaskArg[] args, bool gatherArgs = false)
    {
        _ray = ray;
        _function = function;
        _args = args;
        _gatherArgs = gatherArgs;
    }

    /// <summary>Sets the task's options (resources, retries, name, returns), as Ray's <c>.options(...)</c>.</summary>
    public RemoteFunction<TR> Options(TaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _resources = options.ToResourceSet();
        _retryTypes = options.RetryExceptionTypes is { Count: > 0 } types ? types.Select(t => t.FullName!).ToArray() : null;
        return this;
    }

    /// <summary>Submits the task; the returned ref is ready when the task has run.</summary>
    public ObjectRef<TR> Remote()
    {
        if (_options.NumReturns != 1)
        {
            throw new InvalidOperationException($"This task has NumReturns = {_options.NumReturns}: submit it with RemoteSplit() to get one ref per return.");
        }

        return new ObjectRef<TR>(new ObjectId(Submit(isGenerator: false), 1), _ray.Runtime);
    }

    internal Guid Submit(bool isGenerator, bool splitArray = false)
    {
        var worker = WorkerContext.Current;
        var spec = new TaskSpec
        {
            TaskId = UniqueIds.Next(), Function = _function.Key, Name = _options.Name ?? _function.DisplayName, Args = _args,
            NumReturns = _options.NumReturns, Resources = _resources, MaxRetries = _options.MaxRetries,
            RetryExceptions = _options.RetryExceptions, RetryExceptionTypes = _retryTypes, ParentTaskId = worker?.TaskId ?? Guid.Empty,
            JobId = worker?.JobId ?? _ray.Runtime.JobId, Code = worker is null ? _ray.Runtime.Code : worker.Code,
            IsGenerator = isGenerator, SplitArray = splitArray, GatherArgs = _gatherArgs, GeneratorBackpressure = _options.GeneratorBackpressure,
            Strategy = _options.SchedulingStrategy.Kind == SchedulingKind.Default ? null : _options.SchedulingStrategy,
        };
        _ray.Runtime.SubmitTask(spec);
        return spec.TaskId;
    }

    internal Ray Ray => _ray;

    internal TaskOptions CurrentOptions => _options;
}
