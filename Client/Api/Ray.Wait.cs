using RayOrleans.Runtime;

namespace RayOrleans;

// Ray's wait.
public sealed partial class Ray
{
    [ThreadStatic]
    private static HashSet<ObjectId>? _waitIds;

    /// <summary>The largest wait whose duplicate-check set a thread keeps for its next wait (larger ones allocate their own).</summary>
    private const int MaxReusedWaitIds = 4096;

    /// <summary>
    /// Ray's <c>wait</c>: returns once <paramref name="numReturns"/> of the refs are ready, or when the
    /// timeout passes, splitting them into ready and not-ready lists (each in the given order). At most
    /// <paramref name="numReturns"/> refs are returned as ready (the first ready ones in the given order); the
    /// rest, ready or not, are in the not-ready list, which can be passed to the next wait as it is.
    /// </summary>
    /// <exception cref="ArgumentException">A ref is null, or the same ref is given twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReturns"/> is negative or more than the number of refs.</exception>
    public async Task<WaitResult<TRef>> WaitAsync<TRef>(IEnumerable<TRef> refs, int numReturns = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TRef : ObjectRef
    {
        ArgumentNullException.ThrowIfNull(refs);
        var list = refs as IReadOnlyList<TRef> ?? refs.ToList();
        if (numReturns < 0 || numReturns > list.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(numReturns), numReturns, $"numReturns must be between 0 and the number of refs ({list.Count}).");
        }

        // A list a wait returned holds distinct refs and cannot change: Ray's loop of waits over the last
        // not-ready list checks it once, not on every call.
        if (list is not RefList<TRef>)
        {
            CheckDistinct(list, nameof(refs));
        }

        // That loop's usual case: the head of the list is ready. The answer then needs no look at the rest.
        if (ReadyPrefix(list, numReturns))
        {
            return new WaitResult<TRef>(RefList<TRef>.Slice(list, 0, numReturns), RefList<TRef>.Slice(list, numReturns, list.Count - numReturns));
        }

        var ids = new ObjectId[list.Count];
        var locals = new OwnedObjects.Entry?[list.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            // Read through the entry a ref holds, without handing its id out (see ObjectRef.Id).
            ids[i] = list[i].RawId;
            locals[i] = list[i].Local;
        }

        var (ready, notReady) = await Runtime.WaitAsync(ids, numReturns, timeout, cancellationToken, locals).ConfigureAwait(false);
        return new WaitResult<TRef>(RefList<TRef>.Pick(list, ready), RefList<TRef>.Pick(list, notReady));
    }

    /// <summary>Whether the first <paramref name="count"/> refs are known ready here, with no wait.</summary>
    private bool ReadyPrefix<TRef>(IReadOnlyList<TRef> list, int count) where TRef : ObjectRef
    {
        for (var i = 0; i < count; i++)
        {
            if (!Runtime.IsKnownReady(list[i].RawId, list[i].Local))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckDistinct<TRef>(IReadOnlyList<TRef> list, string parameter) where TRef : ObjectRef
    {
        // The check reuses this thread's set (cleared, not reallocated): Ray's loop of waits over a shrinking
        // list of 1000 refs made a new set of hundreds of entries on every call.
        var distinct = _waitIds is { } reused && list.Count <= MaxReusedWaitIds ? reused : new HashSet<ObjectId>(list.Count);
        _waitIds = null;
        try
        {
            for (var i = 0; i < list.Count; i++)
            {
                var objectRef = list[i] ?? throw new ArgumentException($"Wait was given a null ref at position {i}.", parameter);
                if (!distinct.Add(objectRef.RawId))
                {
                    throw new ArgumentException($"Wait was given the same ref twice ({objectRef.RawId}, at position {i}).", parameter);
                }
            }
        }
        finally
        {
            if (list.Count <= MaxReusedWaitIds)
            {
                distinct.Clear();
                _waitIds = distinct;
            }
        }
    }
}
