using RayOrleans.Tasks;

namespace RayOrleans;

/// <summary>Submits a task whose tuple or array result is split into one ref per item (Ray's <c>num_returns</c>).</summary>
public static class RemoteSplitExtensions
{
    /// <summary>Submits with <c>NumReturns = 2</c>; one ref per tuple item.</summary>
    public static (ObjectRef<T1>, ObjectRef<T2>) RemoteSplit<T1, T2>(this RemoteFunction<(T1, T2)> call)
    {
        var id = Submit(call, 2);
        return (Ref<T1>(call.Ray, id, 1), Ref<T2>(call.Ray, id, 2));
    }

    /// <summary>Submits with <c>NumReturns = 3</c>; one ref per tuple item.</summary>
    public static (ObjectRef<T1>, ObjectRef<T2>, ObjectRef<T3>) RemoteSplit<T1, T2, T3>(this RemoteFunction<(T1, T2, T3)> call)
    {
        var id = Submit(call, 3);
        return (Ref<T1>(call.Ray, id, 1), Ref<T2>(call.Ray, id, 2), Ref<T3>(call.Ray, id, 3));
    }

    /// <summary>Submits with <c>NumReturns = 4</c>; one ref per tuple item.</summary>
    public static (ObjectRef<T1>, ObjectRef<T2>, ObjectRef<T3>, ObjectRef<T4>) RemoteSplit<T1, T2, T3, T4>(this RemoteFunction<(T1, T2, T3, T4)> call)
    {
        var id = Submit(call, 4);
        return (Ref<T1>(call.Ray, id, 1), Ref<T2>(call.Ray, id, 2), Ref<T3>(call.Ray, id, 3), Ref<T4>(call.Ray, id, 4));
    }

    /// <summary>
    /// Submits with <c>NumReturns = <paramref name="numReturns"/></c> a task that returns an array of exactly that
    /// many items; one ref per item, each its own object (Ray's <c>num_returns=N</c> with a list result, for any N).
    /// A task that returns another length fails every ref with an error that says so.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReturns"/> is less than 1.</exception>
    public static ObjectRef<T>[] RemoteSplit<T>(this RemoteFunction<T[]> call, int numReturns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numReturns, 1);
        var id = Submit(call, numReturns, splitArray: true);
        var refs = new ObjectRef<T>[numReturns];
        for (var i = 0; i < numReturns; i++)
        {
            refs[i] = Ref<T>(call.Ray, id, i + 1);
        }

        return refs;
    }

    private static Guid Submit<TR>(RemoteFunction<TR> call, int numReturns, bool splitArray = false)
    {
        call.Options(call.CurrentOptions with { NumReturns = numReturns });
        return call.Submit(isGenerator: false, splitArray);
    }

    private static ObjectRef<T> Ref<T>(Ray ray, Guid taskId, int index) => new(new ObjectId(taskId, index), ray.Runtime);
}
