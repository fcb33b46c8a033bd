using System.Linq.Expressions;
using RayOrleans.Functions;
using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>An actor to create: its constructor call and options. <see cref="Remote"/> creates it.</summary>
/// <typeparam name="TActor">The actor's class.</typeparam>
public sealed class ActorBuilder<TActor> where TActor : class
{
    private readonly Ray _ray;
    private readonly FunctionDescriptor _constructor;
    private readonly TaskArg[] _args;
    private ActorOptions _options = new();

    internal ActorBuilder(Ray ray, Expression<Func<TActor>> constructor)
    {
        ArgumentNullException.ThrowIfNull(constructor);
        if (constructor.Body is not NewExpression { Constructor: { } ctor } created)
        {
            throw new ArgumentException($"An actor is made by a constructor call such as '() => new {typeof(TActor).Name}(...)'; got '{constructor.Body}'.", nameof(constructor));
        }

        if (!ctor.IsPublic || !typeof(TActor).IsVisible || ctor.DeclaringType != typeof(TActor))
        {
            throw new ArgumentException($"Actor class {typeof(TActor).Name} and its constructor must be public, and the constructor must be {typeof(TActor).Name}'s own.", nameof(constructor));
        }

        _ray = ray;
        _constructor = FunctionDescriptor.For(ctor);
        _args = ExpressionArguments.Evaluate(created.Arguments, ctor.GetParameters(), constructor, []);
    }

    /// <summary>Sets the actor's options (name, lifetime, restarts, concurrency, resources).</summary>
    public ActorBuilder<TActor> Options(ActorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        return this;
    }

    /// <summary>
    /// Creates the actor and returns its handle at once; calls made before it is constructed wait for it.
    /// If construction fails, calls fail with <see cref="ActorDiedException"/> naming the cause.
    /// </summary>
    public ActorHandle<TActor> Remote()
    {
        var (handle, creation) = Create();
        _ray.Runtime.ObserveCreation(creation, typeof(TActor).Name);
        return handle;
    }

    /// <summary>Creates the actor and waits until it is constructed; throws at once if it cannot be (name taken, constructor threw).</summary>
    public async Task<ActorHandle<TActor>> RemoteAsync()
    {
        var (handle, creation) = Create();
        await creation.ConfigureAwait(false);
        return handle;
    }

    private (ActorHandle<TActor> Handle, Task Creation) Create()
    {
        var id = ActorId.New();
        var spec = new ActorSpec
        {
            ActorId = id, Constructor = _constructor.Key, Args = _args, ClassName = typeof(TActor).FullName!,
            Resources = ResourceDemand.Build(_options.NumCpus, _options.NumGpus, _options.Memory, _options.Resources),
            MaxRestarts = _options.MaxRestarts, MaxTaskRetries = _options.MaxTaskRetries, MaxConcurrency = _options.MaxConcurrency,
            Name = _options.Name, Namespace = _options.Namespace ?? "default", Detached = _options.Lifetime == ActorLifetime.Detached,
            Strategy = _options.SchedulingStrategy.Kind == SchedulingKind.Default ? null : _options.SchedulingStrategy,
            JobId = _ray.Runtime.CurrentJobId, Code = _ray.Runtime.CurrentCode,
        };
        if (!spec.Detached)
        {
            _ray.TrackOwnedActor(id);
        }

        return (new ActorHandle<TActor>(id, _ray.Runtime), _ray.Runtime.CreateActorAsync(spec));
    }
}
