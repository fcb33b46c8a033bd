using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;

namespace RayOrleans.Functions;

/// <summary>
/// Calls one remote function, actor method or constructor with deserialized arguments. The call goes
/// through a delegate compiled once per member (cached by descriptor key), never through per-call
/// reflection. A <see cref="CancellationToken"/> parameter is not a user argument: the worker supplies the
/// task's token there.
/// </summary>
internal sealed class FunctionInvoker
{
    private static readonly ConcurrentDictionary<string, FunctionInvoker> Cache = new(StringComparer.Ordinal);

    private readonly Func<object?, object?[], CancellationToken, object?> _call;

    private FunctionInvoker(MethodBase member, string name)
    {
        Name = name;
        var parameters = member.GetParameters();
        ArgumentTypes = parameters.Where(p => p.ParameterType != typeof(CancellationToken)).Select(p => p.ParameterType).ToArray();

        var target = Expression.Parameter(typeof(object), "target");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var token = Expression.Parameter(typeof(CancellationToken), "token");
        var callArgs = new List<Expression>(parameters.Length);
        var userIndex = 0;
        foreach (var p in parameters)
        {
            callArgs.Add(p.ParameterType == typeof(CancellationToken)
                ? token
                : Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(userIndex++)), p.ParameterType));
        }

        Expression body;
        switch (member)
        {
            case ConstructorInfo ctor:
                body = Expression.New(ctor, callArgs);
                Adapter = ResultAdapter.For(ctor.DeclaringType!, out var k, out var rt);
                ReturnKind = k;
                ResultType = rt;
                break;
            case MethodInfo method:
                Adapter = ResultAdapter.For(method.ReturnType, out var kind, out var resultType);
                ReturnKind = kind;
                ResultType = resultType;
                body = method.IsStatic
                    ? Expression.Call(method, callArgs)
                    : Expression.Call(Expression.Convert(target, method.DeclaringType!), method, callArgs);
                break;
            default:
                throw new ArgumentException($"{member} is neither a method nor a constructor.");
        }

        _call = Expression.Lambda<Func<object?, object?[], CancellationToken, object?>>(
            Expression.Convert(body, typeof(object)), target, args, token).Compile();
    }

    public string Name { get; }

    /// <summary>Types of the user arguments, in order, without injected tokens.</summary>
    public Type[] ArgumentTypes { get; }

    public ReturnKind ReturnKind { get; }

    /// <summary>The value type a caller receives (T of Task&lt;T&gt;, ValueTask&lt;T&gt; or IAsyncEnumerable&lt;T&gt;).</summary>
    public Type ResultType { get; }

    public ResultAdapter Adapter { get; }

    public static FunctionInvoker Get(string key) => Cache.GetOrAdd(key, static k =>
    {
        var member = FunctionDescriptor.Resolve(k);
        return new FunctionInvoker(member, FunctionDescriptor.For(member).DisplayName);
    });

    /// <summary>
    /// An invoker for a member of a job's shipped code, resolved in <paramref name="context"/>; not cached
    /// here (the job's load context caches its own, so they go when it is unloaded).
    /// </summary>
    public static FunctionInvoker Create(string key, System.Runtime.Loader.AssemblyLoadContext context)
    {
        var member = FunctionDescriptor.Resolve(key, context);
        return new FunctionInvoker(member, FunctionDescriptor.For(member).DisplayName);
    }

    /// <summary>Runs the member; for an awaitable it awaits; for a stream it returns the stream unstarted.</summary>
    public object? Invoke(object? target, object?[] args, CancellationToken cancellationToken) => _call(target, args, cancellationToken);
}
