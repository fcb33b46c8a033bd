namespace RayOrleans.Tests.Functions;

/// <summary>An actor that keeps refs it was given inside a value (its node's runtime borrows them) and reads them on demand.</summary>
public sealed class RefsKeeper
{
    private ObjectRef<int>[] _refs = [];

    public int Keep(ObjectRef<int>[] refs)
    {
        _refs = refs;
        return refs.Length;
    }

    /// <summary>Reads every kept ref (from the directory: this process does not own them).</summary>
    public async Task<long> Sum()
    {
        var values = await Ray.Current.GetAsync(_refs, TimeSpan.FromSeconds(30));
        return values.Sum(v => (long)v);
    }

    /// <summary>Drops the refs and collects them, so their releases go now (a silo process may not collect for a long while).</summary>
    public int Clear()
    {
        var count = _refs.Length;
        _refs = [];
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return count;
    }
}
