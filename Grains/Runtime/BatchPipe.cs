namespace RayOrleans.Runtime;

/// <summary>
/// Sends items to one receiver in batches, with at most one batch on its way at a time: an item that finds the pipe
/// idle leaves at once on the caller's thread (no added latency), and items that come while a batch is on its way
/// wait and leave together when it is acknowledged (group commit, as Nagle's algorithm). So a lone call costs what
/// a plain call costs, and a burst costs one message per round trip instead of one per item.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class BatchPipe<T>
{
    private readonly Func<T[], Task> _send;
    private readonly Action<T[], Exception> _failed;
    private readonly Func<T, long> _size;
    private readonly int _maxItems;
    private readonly long _maxBytes;
    private readonly Action<BatchPipe<T>>? _idle;
    private readonly List<T> _queued = [];
    private bool _sending;
    private bool _closed;

    /// <param name="send">Sends one batch; the task completes when the receiver acknowledged it.</param>
    /// <param name="failed">Told of a batch whose send failed (the receiver may not have it).</param>
    /// <param name="size">An item's bytes, toward <paramref name="maxBytes"/>.</param>
    /// <param name="maxItems">At most this many items in one batch.</param>
    /// <param name="maxBytes">At most about this many bytes in one batch (one larger item still goes alone).</param>
    /// <param name="idle">
    /// When set, the pipe closes once it has nothing left to send and calls this (its owner drops it); a closed
    /// pipe refuses items (<see cref="TryAdd"/> false), so the caller makes a new one.
    /// </param>
    public BatchPipe(Func<T[], Task> send, Action<T[], Exception> failed, Func<T, long> size, int maxItems, long maxBytes, Action<BatchPipe<T>>? idle = null)
    {
        _send = send;
        _failed = failed;
        _size = size;
        _maxItems = maxItems;
        _maxBytes = maxBytes;
        _idle = idle;
    }

    /// <summary>Whether nothing is on its way or waiting.</summary>
    public bool Idle
    {
        get
        {
            lock (_queued)
            {
                return !_sending && _queued.Count == 0;
            }
        }
    }

    /// <summary>Sends <paramref name="item"/> now if nothing is on its way, else with the next batch; false when closed.</summary>
    public bool TryAdd(T item)
    {
        lock (_queued)
        {
            if (_closed)
            {
                return false;
            }

            if (_sending)
            {
                _queued.Add(item);
                return true;
            }

            _sending = true;
        }

        Pump([item]);
        return true;
    }

    private void Pump(T[]? batch)
    {
        while (batch is not null)
        {
            Task sent;
            try
            {
                sent = _send(batch);
            }
            catch (Exception e)
            {
                _failed(batch, e);
                batch = Next();
                continue;
            }

            if (!sent.IsCompleted)
            {
                sent.ContinueWith(
                    static (done, state) =>
                    {
                        var (pipe, batch) = ((BatchPipe<T>, T[]))state!;
                        pipe.Acknowledged(done, batch);
                        pipe.Pump(pipe.Next());
                    },
                    (this, batch), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return;
            }

            Acknowledged(sent, batch);
            batch = Next();
        }
    }

    private void Acknowledged(Task sent, T[] batch)
    {
        if (!sent.IsCompletedSuccessfully)
        {
            _failed(batch, sent.Exception?.GetBaseException() ?? new TaskCanceledException());
        }
    }

    /// <summary>The next batch from the queue, or null (and the pipe idle) when it is empty.</summary>
    private T[]? Next()
    {
        lock (_queued)
        {
            if (_queued.Count == 0)
            {
                _sending = false;
                if (_idle is null)
                {
                    return null;
                }

                _closed = true;
            }
            else
            {
                var count = 0;
                long bytes = 0;
                while (count < _queued.Count && count < _maxItems && (count == 0 || bytes < _maxBytes))
                {
                    bytes += _size(_queued[count]);
                    count++;
                }

                var batch = _queued.GetRange(0, count).ToArray();
                _queued.RemoveRange(0, count);
                return batch;
            }
        }

        _idle!(this);
        return null;
    }
}
