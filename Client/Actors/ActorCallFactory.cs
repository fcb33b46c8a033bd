using System.Linq.Expressions;
using System.Reflection;
using RayOrleans.Functions;
using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>Turns <c>a =&gt; a.Method(args)</c> into an <see cref="ActorMethodCall{TR}"/>, checking at the call site that it can run remotely.</summary>
internal static class ActorCallFactory
{
    public static ActorMethodCall<TR> Create<TActor, TR>(ActorHandle<TActor> handle, LambdaExpression method, TaskArg[] supplied)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Body is not MethodCallExpression call || call.Object is not ParameterExpression target || target != method.Parameters[0])
        {
            throw new ArgumentException($"An actor call is one method call on the actor, such as 'a => a.Add(1)'; got '{method.Body}'.", nameof(method));
        }

        var info = call.Method;
        if (!info.IsPublic || info.IsStatic)
        {
            throw new ArgumentException($"{typeof(TActor).Name}.{info.Name} cannot be called remotely: actor methods must be public instance methods.", nameof(method));
        }

        var descriptor = FunctionDescriptor.For(info);
        var args = call.Arguments.Count == 0 ? [] : ExpressionArguments.Evaluate(call.Arguments, descriptor.Parameters, method, supplied);
        var runtime = handle.Runtime;
        return new ActorMethodCall<TR>(runtime, handle.Id, handle.Grain, handle.CallerId, handle.Sequence, descriptor.Key, descriptor.DisplayName, args);
    }
}
