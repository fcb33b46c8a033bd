namespace RayOrleans;

/// <summary>The next sequence number of one caller's calls to an actor: the actor runs each caller's calls in this order.</summary>
internal sealed class CallSequence
{
    private long _last = -1;

    /// <summary>Takes the next number (0, 1, 2, ...); safe from any thread.</summary>
    public long Next() => Interlocked.Increment(ref _last);
}
