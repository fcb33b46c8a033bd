namespace RayOrleans.Silo.Jobs;

/// <summary>
/// One driver's combined stdout and stderr, appended to a file as it arrives and read back by byte offset
/// (Ray's <c>JobLogStorageClient</c>). Readers long-poll through <see cref="WaitAsync"/>, which completes on
/// the next append or on <see cref="Complete"/>, never by polling the file.
/// </summary>
internal sealed class JobLog : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _writer;
    private long _length;
    private bool _completed;

    // Replaced on every append; the one being replaced is completed, waking every reader waiting for news.
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JobLog(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _writer = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>Bytes written so far; what a reader can read.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _length;
            }
        }
    }

    /// <summary>True once the driver's output has ended: nothing more will be appended.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    /// <summary>Appends bytes (from either stream) and wakes the readers waiting past the old end.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _writer.Write(bytes);
            _writer.Flush();
            _length += bytes.Length;
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Appends a line of the head's own (the reason a driver could not start).</summary>
    public void AppendLine(string text) => Append(System.Text.Encoding.UTF8.GetBytes(text + "\n"));

    /// <summary>Marks the log finished and wakes every reader.</summary>
    public void Complete()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _writer.Flush();
            changed = _changed;
        }

        changed.TrySetResult();
    }

    /// <summary>
    /// Completes when there are bytes past <paramref name="offset"/>, the log is complete, or
    /// <paramref name="timeout"/> has passed (or <paramref name="cancellationToken"/> fires), whichever is first.
    /// </summary>
    public async Task WaitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_length > offset || _completed)
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Reads up to <paramref name="maxBytes"/> bytes from <paramref name="offset"/>; empty at or past the end.</summary>
    public async Task<byte[]> ReadAsync(long offset, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var count = (int)Math.Clamp(Length - offset, 0, maxBytes);
        if (count == 0)
        {
            return [];
        }

        var bytes = new byte[count];
        await using var reader = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        reader.Position = offset;
        await reader.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }

    /// <summary>Closes the file (and completes the log); the file stays until <see cref="Delete"/>.</summary>
    public void Dispose()
    {
        Complete();
        lock (_gate)
        {
            _writer.Dispose();
        }
    }

    /// <summary>Closes and removes the file, when the job is forgotten.</summary>
    public void Delete()
    {
        Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Open by a reader right now; the folder is the head's own, and a stray file is harmless.
        }
    }
}
