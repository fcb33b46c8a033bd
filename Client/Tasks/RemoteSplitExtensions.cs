using RayOrleans.Tasks;

namespace RayOrleans;

/// <summary>Submits a task whose tuple result is split into one ref per item (Ray's <c>num_returns</c>).</summary>
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

    private static Guid Submit<TR>(RemoteFunction<TR> call, int numReturns)
    {
        call.Options(call.CurrentOptions with { NumReturns = numReturns });
        return call.Submit(isGenerator: false);
    }

    private static ObjectRef<T> Ref<T>(Ray ray, Guid taskId, int index) => new(new ObjectId(taskId, index), ray.Runtime);
}
