namespace RayOrleans.Tests.Functions;

/// <summary>Refs passed inside a value (the directory counts them as the holder's).</summary>
public sealed record RefsBox(ObjectRef<int>[] Refs);

/// <summary>
/// An actor built from refs: the directory holds them for it (its constructor's, kept for restarts) until it dies for
/// good. It can drop its own copies, so only that hold keeps the objects, and reads them again after a restart.
/// </summary>
public sealed class BuiltFromRefs
{
    private ObjectRef<int>[] _refs;

    public BuiltFromRefs(RefsBox box) => _refs = box.Refs;

    public async Task<long> Sum()
    {
        var values = await Ray.Current.GetAsync(_refs, TimeSpan.FromSeconds(30));
        return values.Sum(v => (long)v);
    }

    /// <summary>Drops the refs and collects them, so this node's holds go now.</summary>
    public int Drop()
    {
        var count = _refs.Length;
        _refs = [];
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return count;
    }
}
