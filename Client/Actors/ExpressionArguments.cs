using System.Linq.Expressions;
using System.Reflection;
using RayOrleans.Messages;
using RayOrleans.Serialization;

namespace RayOrleans;

/// <summary>
/// Reads the arguments out of a call expression such as <c>c =&gt; c.Add(i, 2)</c>: lambda parameters take
/// the values or refs given beside the expression; anything else is evaluated here, at the call site, and
/// serialized with its parameter's type. Constants and captured locals are read directly; only other
/// expressions are interpreted.
/// </summary>
internal static class ExpressionArguments
{
    public static TaskArg[] Evaluate(IReadOnlyList<Expression> arguments, ParameterInfo[] parameters, LambdaExpression lambda, TaskArg[] supplied)
    {
        var count = 0;
        for (var i = 0; i < arguments.Count; i++)
        {
            count += parameters[i].ParameterType == typeof(CancellationToken) ? 0 : 1;
        }

        var result = new TaskArg[count]; // exact: no list and its copy per call
        var n = 0;
        for (var i = 0; i < arguments.Count; i++)
        {
            var parameter = parameters[i];
            if (parameter.ParameterType == typeof(CancellationToken))
            {
                continue; // the worker passes the call's own token here
            }

            if (parameter.ParameterType.IsByRef)
            {
                throw new ArgumentException($"Parameter '{parameter.Name}' of {parameter.Member.Name} is passed by reference; remote calls take values.");
            }

            var argument = Unwrap(arguments[i]);
            if (argument is ParameterExpression p && lambda.Parameters.IndexOf(p) is var k and > 0)
            {
                result[n++] = supplied[k - 1];
                continue;
            }

            if (argument is ParameterExpression)
            {
                throw new ArgumentException($"The actor itself cannot be passed as argument '{parameter.Name}' of {parameter.Member.Name}.");
            }

            object? value;
            try
            {
                value = Read(arguments[i]);
            }
            catch (Exception e)
            {
                throw new ArgumentException($"Argument '{parameter.Name}' of {parameter.Member.Name} ('{arguments[i]}') threw while being evaluated: {e.Message}", e);
            }

            if (value is ObjectRef)
            {
                throw new ArgumentException(
                    $"Argument '{parameter.Name}' of {parameter.Member.Name} is an ObjectRef inside the expression; pass it beside the lambda instead, e.g. handle.Task((a, x) => a.{parameter.Member.Name}(x), yourRef).");
            }

            try
            {
                var bytes = RefCapture.Serialize(ObjectSerializer.Instance, value, parameter.ParameterType, out var refs);
                result[n++] = new TaskArg { Value = bytes, Refs = refs };
            }
            catch (RaySerializationException e)
            {
                throw new ArgumentException($"Argument '{parameter.Name}' of {parameter.Member.Name} ({parameter.ParameterType.Name}) cannot be sent to another node: {e.InnerException?.Message}", parameter.Name, e);
            }
        }

        return result;
    }

    private static Expression Unwrap(Expression e) => e is UnaryExpression { NodeType: ExpressionType.Convert } u ? u.Operand : e;

    private static object? Read(Expression expression) => expression switch
    {
        ConstantExpression c => c.Value,
        MemberExpression { Member: FieldInfo f, Expression: null } => f.GetValue(null),
        MemberExpression { Member: FieldInfo f, Expression: ConstantExpression closure } => f.GetValue(closure.Value),
        MemberExpression { Member: PropertyInfo p, Expression: ConstantExpression target } => p.GetValue(target.Value),
        _ => Expression.Lambda<Func<object?>>(Expression.Convert(expression, typeof(object))).Compile(preferInterpretation: true)(),
    };
}
