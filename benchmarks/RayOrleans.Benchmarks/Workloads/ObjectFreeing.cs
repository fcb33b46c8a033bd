namespace RayOrleans.Benchmarks.Workloads;

/// <summary>
/// Frees a put object. RayOrleans has no reference counting yet (objects live until their node stops), so
/// the gigabyte scenarios, which put hundreds of large objects, would fill the store after a few seconds;
/// Ray frees each one when its ref goes out of scope. This frees it through the runtime's internals
/// (<c>RayRuntime.Free</c>: the owner's entry and the store's segment, which goes back to the pool), inside
/// the timed loop.
/// </summary>
internal static class ObjectFreeing
{
    public static Task FreeAsync(Ray ray, ObjectRef put)
    {
        ray.Runtime.Free(put.Id);
        return Task.CompletedTask;
    }
}
