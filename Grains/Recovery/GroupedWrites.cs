namespace RayOrleans.Recovery;

/// <summary>
/// Writes a grain's persistent state one write at a time (the storage's etag allows no other), grouping the
/// changes that come while a write is on its way into the next one: in a reentrant grain a burst of changes costs
/// a few writes, not one each, and no caller is answered before a write that includes its change has ended.
/// Used from the grain's own scheduler only, so the state does not change while a write copies it.
/// </summary>
internal sealed class GroupedWrites(Func<Task> write)
{
    /// <summary>Completes when a write that began after the latest change ends; null when nothing waits to be written.</summary>
    private TaskCompletionSource? _unwritten;

    /// <summary>A write is on its way.</summary>
    private bool _writing;

    /// <summary>Completes once the state as it is now is stored (by the next write to begin); faults as that write does.</summary>
    public Task WrittenAsync()
    {
        var unwritten = _unwritten ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_writing)
        {
            _writing = true;
            _ = WriteLoopAsync();
        }

        return unwritten.Task;
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (_unwritten is { } batch)
            {
                _unwritten = null;
                try
                {
                    await write();
                    batch.TrySetResult();
                }
                catch (Exception e)
                {
                    batch.TrySetException(e);
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }
}
