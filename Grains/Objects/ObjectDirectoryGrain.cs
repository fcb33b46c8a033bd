using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Objects;

/// <summary>
/// One shard of the object directory. All methods interleave (the grain runs one at a time on its own
/// scheduler, so the maps need no locks), and a waiter parks on a completion source rather than polling.
/// </summary>
[KeepAlive]
internal sealed class ObjectDirectoryGrain : Grain, IObjectDirectoryGrain
{
    private readonly Dictionary<ObjectId, ObjectValue> _ready = new();
    private readonly Dictionary<ObjectId, TaskCompletionSource<ObjectValue>> _waiters = new();

    public Task PublishAsync(ObjectId id, ObjectValue value)
    {
        Publish(id, value);
        return Task.CompletedTask;
    }

    public Task PublishManyAsync(KeyValuePair<ObjectId, ObjectValue>[] values)
    {
        foreach (var (id, value) in values)
        {
            Publish(id, value);
        }

        return Task.CompletedTask;
    }

    public async Task<ObjectValue?> WaitAsync(ObjectId id, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (_ready.TryGetValue(id, out var value))
        {
            return value;
        }

        if (!_waiters.TryGetValue(id, out var waiter))
        {
            waiter = new TaskCompletionSource<ObjectValue>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters[id] = waiter;
        }

        try
        {
            return await waiter.Task.WaitAsync(maxWait, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    public Task<ObjectValue?> TryGetAsync(ObjectId id) => Task.FromResult(_ready.GetValueOrDefault(id));

    public Task<ObjectId[]> FilterReadyAsync(ObjectId[] ids) => Task.FromResult(ids.Where(_ready.ContainsKey).ToArray());

    public Task RemoveAsync(ObjectId[] ids)
    {
        foreach (var id in ids)
        {
            _ready.Remove(id);
        }

        return Task.CompletedTask;
    }

    public Task<int> CountAsync() => Task.FromResult(_ready.Count);

    private void Publish(ObjectId id, ObjectValue value)
    {
        // Objects are immutable: the first record wins (a cancelled error stays, a late result is dropped).
        if (!_ready.TryAdd(id, value))
        {
            return;
        }

        if (_waiters.Remove(id, out var waiter))
        {
            waiter.TrySetResult(value);
        }
    }
}
