using RayOrleans.Tasks;

namespace RayOrleans;

public sealed partial class Ray
{
    /// <summary>
    /// Prepares a remote call of <paramref name="function"/>, which takes one array, with each of
    /// <paramref name="items"/> as one of its items: a top-level ref argument each, which the task waits for and
    /// gets as a value before it runs (Ray's <c>f.remote(*refs)</c>: any number of ref arguments, 10,000 and more).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is null (named by its position).</exception>
    public RemoteFunction<TR> Task<T, TR>(Func<T[], TR> function, IReadOnlyList<ObjectRef<T>> items) =>
        new(this, Describe(function), ItemArgs(items, function), gatherArgs: true);

    /// <summary>
    /// Prepares a remote call of <paramref name="function"/>, which takes one array and returns Task&lt;TR&gt;
    /// (awaited on the worker), with each of <paramref name="items"/> as one of its items, resolved before it runs.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is null (named by its position).</exception>
    public RemoteFunction<TR> Task<T, TR>(Func<T[], Task<TR>> function, IReadOnlyList<ObjectRef<T>> items) =>
        new(this, Describe(function), ItemArgs(items, function), gatherArgs: true);

    private static Messages.TaskArg[] ItemArgs<T>(IReadOnlyList<ObjectRef<T>> items, object function)
    {
        ArgumentNullException.ThrowIfNull(items);
        var args = new Messages.TaskArg[items.Count];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = RefArg(items[i], i, function);
        }

        return args;
    }
}
