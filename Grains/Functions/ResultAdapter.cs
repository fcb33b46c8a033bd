namespace RayOrleans.Functions;

/// <summary>
/// Unwraps what a user method returned (a value, an awaitable, or a stream) without per-call reflection:
/// one typed adapter is made per method when its invoker is built.
/// </summary>
internal abstract class ResultAdapter
{
    public static ResultAdapter For(Type returnType, out ReturnKind kind, out Type resultType)
    {
        if (returnType.IsGenericType)
        {
            var def = returnType.GetGenericTypeDefinition();
            var arg = returnType.GetGenericArguments()[0];
            if (def == typeof(Task<>))
            {
                kind = ReturnKind.Awaitable;
                resultType = arg;
                return Create(typeof(TaskAdapter<>), arg);
            }

            if (def == typeof(ValueTask<>))
            {
                kind = ReturnKind.Awaitable;
                resultType = arg;
                return Create(typeof(ValueTaskAdapter<>), arg);
            }

            if (def == typeof(IAsyncEnumerable<>))
            {
                kind = ReturnKind.Stream;
                resultType = arg;
                return Create(typeof(StreamAdapter<>), arg);
            }
        }

        if (returnType == typeof(void) || returnType == typeof(Task) || returnType == typeof(ValueTask))
        {
            throw new NotSupportedException(
                $"A remote method must return a value (got {returnType.Name}); return a result such as bool or a record instead.");
        }

        kind = ReturnKind.Value;
        resultType = returnType;
        return ValueAdapter.Instance;
    }

    private static ResultAdapter Create(Type open, Type arg) => (ResultAdapter)Activator.CreateInstance(open.MakeGenericType(arg))!;

    public abstract ValueTask<object?> AwaitAsync(object? returned);

    public abstract IAsyncEnumerable<object?> Enumerate(object? returned, CancellationToken cancellationToken);

    private sealed class ValueAdapter : ResultAdapter
    {
        public static readonly ValueAdapter Instance = new();
        public override ValueTask<object?> AwaitAsync(object? returned) => ValueTask.FromResult(returned);
        public override IAsyncEnumerable<object?> Enumerate(object? returned, CancellationToken ct) => throw new InvalidOperationException("not a stream");
    }

    private sealed class TaskAdapter<T> : ResultAdapter
    {
        public override async ValueTask<object?> AwaitAsync(object? returned) =>
            await ((Task<T>?)returned ?? throw new InvalidOperationException("The remote method returned a null Task.")).ConfigureAwait(false);
        public override IAsyncEnumerable<object?> Enumerate(object? returned, CancellationToken ct) => throw new InvalidOperationException("not a stream");
    }

    private sealed class ValueTaskAdapter<T> : ResultAdapter
    {
        public override async ValueTask<object?> AwaitAsync(object? returned) => await ((ValueTask<T>)returned!).ConfigureAwait(false);
        public override IAsyncEnumerable<object?> Enumerate(object? returned, CancellationToken ct) => throw new InvalidOperationException("not a stream");
    }

    private sealed class StreamAdapter<T> : ResultAdapter
    {
        public override ValueTask<object?> AwaitAsync(object? returned) => throw new InvalidOperationException("a stream is enumerated, not awaited");

        public override async IAsyncEnumerable<object?> Enumerate(object? returned, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            var source = (IAsyncEnumerable<T>?)returned ?? throw new InvalidOperationException("The generator returned null.");
            await foreach (var item in source.WithCancellation(ct).ConfigureAwait(false))
            {
                yield return item;
            }
        }
    }
}
