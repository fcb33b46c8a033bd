namespace RayOrleans.Node;

/// <summary>How far a streaming generator's consumer has read, so the producer can wait for it.</summary>
internal sealed class GeneratorWindow
{
    private readonly object _gate = new();
    private int _consumed;
    private TaskCompletionSource? _changed;

    public void Acknowledge(int consumed)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (consumed <= _consumed)
            {
                return;
            }

            _consumed = consumed;
            wake = _changed;
            _changed = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>Completes once the consumer has taken at least <paramref name="consumed"/> values.</summary>
    public async Task WaitUntilAsync(int consumed, CancellationToken token)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_consumed >= consumed)
                {
                    return;
                }

                _changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed = _changed.Task;
            }

            await changed.WaitAsync(token).ConfigureAwait(false);
        }
    }
}
