namespace RayOrleans.Tests.Functions;

/// <summary>Tasks that leave objects on the node that ran them, for the autoscaler's drain tests.</summary>
public static class DrainTasks
{
    /// <summary>The value every test array holds at <paramref name="i"/>.</summary>
    public static long At(int i) => 3L * i + 1;

    /// <summary>Puts a large array from this node (its runtime owns it, and the only copy is here) and returns the ref.</summary>
    public static async Task<ObjectRef<long[]>> PutHere(int length) =>
        await Ray.Current.PutAsync(Enumerable.Range(0, length).Select(At).ToArray());

    /// <summary>Puts <paramref name="count"/> arrays from this node (each its own id, so spread over the directory's shards) and returns the refs.</summary>
    public static async Task<ObjectRef<long[]>[]> PutManyHere(int count, int length)
    {
        var refs = new ObjectRef<long[]>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = await Ray.Current.PutAsync(Enumerable.Range(0, length).Select(At).ToArray());
        }

        return refs;
    }

    /// <summary>A large array result: stored on the node that ran it, owned by the caller.</summary>
    public static long[] MakeLongs(int length) => Enumerable.Range(0, length).Select(At).ToArray();

    /// <summary>Reads its array argument on this node (a node on another host, or without same-host memory, pulls a copy).</summary>
    public static long SumLongs(long[] values) => values.Sum();
}
