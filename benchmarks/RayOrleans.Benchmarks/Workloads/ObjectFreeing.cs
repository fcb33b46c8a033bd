namespace RayOrleans.Benchmarks.Workloads;

/// <summary>
/// Frees a put object. RayOrleans has no reference counting yet (objects live until their node stops), so
/// the gigabyte scenarios, which put hundreds of large objects, would fill the store after a few seconds;
/// Ray frees each one when its ref goes out of scope. This drops the object from this node's store and
/// its record from the directory through the runtime's internals, inside the timed loop. A driver with no
/// local store (<c>--address</c>) can only drop the record: the bytes stay on the node that holds them.
/// </summary>
internal static class ObjectFreeing
{
    public static async Task FreeAsync(Ray ray, ObjectRef put)
    {
        var runtime = ray.Runtime;
        runtime.LocalStore?.Remove(put.Id);
        await runtime.Directory(put.Id.TaskId).RemoveAsync([put.Id]).ConfigureAwait(false);
    }
}
