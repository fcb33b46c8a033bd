namespace RayOrleans.Runtime;

/// <summary>
/// Completes when every owned entry counted in it is ready: what a batch get or wait of pending results awaits,
/// one object for the batch instead of a task per result (see <see cref="OwnedObjects.CountIn"/>).
/// </summary>
internal sealed class ReadyCountdown
{
    // Starts at one, the batch's own count, let go by Arm once every entry is counted: it cannot complete halfway.
    private int _remaining = 1;

    // Completed inline by the reply that readies the last entry, as an entry's own waiters are.
    private readonly TaskCompletionSource _done = new();

    public Task Task => _done.Task;

    public void Add() => Interlocked.Increment(ref _remaining);

    public void Signal()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Every entry is counted: completes now if they were all ready meanwhile.</summary>
    public void Arm() => Signal();
}
