using System.Collections;

namespace RayOrleans;

/// <summary>
/// The lists a wait returns: read-only, holding distinct refs (the wait checked them), so a later wait given
/// one skips the check. Each has its own array of exactly its refs, so a ref dropped from every list is free
/// to go (no list keeps the refs another one dropped).
/// </summary>
internal sealed class RefList<TRef> : IReadOnlyList<TRef> where TRef : ObjectRef
{
    private static readonly RefList<TRef> Empty = new([]);
    private readonly TRef[] _refs;

    private RefList(TRef[] refs) => _refs = refs;

    public int Count => _refs.Length;

    public TRef this[int index] => _refs[index];

    /// <summary>Refs <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of <paramref name="list"/>, in order.</summary>
    public static RefList<TRef> Slice(IReadOnlyList<TRef> list, int start, int count)
    {
        if (count == 0)
        {
            return Empty;
        }

        var refs = new TRef[count];
        if (list is RefList<TRef> other)
        {
            Array.Copy(other._refs, start, refs, 0, count);
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                refs[i] = list[start + i];
            }
        }

        return new RefList<TRef>(refs);
    }

    /// <summary>The refs of <paramref name="list"/> at <paramref name="indexes"/>, in that order.</summary>
    public static RefList<TRef> Pick(IReadOnlyList<TRef> list, int[] indexes)
    {
        if (indexes.Length == 0)
        {
            return Empty;
        }

        var refs = new TRef[indexes.Length];
        for (var i = 0; i < refs.Length; i++)
        {
            refs[i] = list[indexes[i]];
        }

        return new RefList<TRef>(refs);
    }

    public IEnumerator<TRef> GetEnumerator() => ((IEnumerable<TRef>)_refs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
