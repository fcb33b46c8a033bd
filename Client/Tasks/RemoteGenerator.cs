using RayOrleans.Functions;
using RayOrleans.Messages;

namespace RayOrleans.Tasks;

/// <summary>A streaming-generator call with its arguments bound; <see cref="Remote"/> starts it.</summary>
/// <typeparam name="TR">The type of each yielded value.</typeparam>
public sealed class RemoteGenerator<TR>
{
    private readonly RemoteFunction<TR> _call;

    internal RemoteGenerator(Ray ray, FunctionDescriptor function, TaskArg[] args) => _call = new RemoteFunction<TR>(ray, function, args);

    /// <summary>Sets the task's options; <c>GeneratorBackpressure</c> bounds how far the producer runs ahead.</summary>
    public RemoteGenerator<TR> Options(TaskOptions options)
    {
        _call.Options(options);
        return this;
    }

    /// <summary>Starts the generator; the stream yields a ref for each value as the task yields it.</summary>
    public ObjectRefGenerator<TR> Remote() => new(_call.Ray, _call.Submit(isGenerator: true));
}
