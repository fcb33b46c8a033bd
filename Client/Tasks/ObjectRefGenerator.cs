using System.Runtime.CompilerServices;
using RayOrleans.Messages;

namespace RayOrleans.Tasks;

/// <summary>
/// The refs a streaming generator yields, in order, as they are produced (Ray's ObjectRefGenerator).
/// Taking a ref acknowledges it to the producer, which pauses when too many values wait unconsumed.
/// Enumerate it once.
/// </summary>
/// <typeparam name="T">The type of each value.</typeparam>
public sealed class ObjectRefGenerator<T> : IAsyncEnumerable<ObjectRef<T>>
{
    private readonly Ray _ray;

    internal ObjectRefGenerator(Ray ray, Guid taskId)
    {
        _ray = ray;
        TaskId = taskId;
    }

    /// <summary>The generator task's id; cancel it with any of its refs or <see cref="CancelAsync"/>.</summary>
    public Guid TaskId { get; }

    /// <summary>Cancels the generator task.</summary>
    public Task CancelAsync(bool force = false) => _ray.Runtime.CancelAsync(TaskId, force, recursive: true);

    /// <inheritdoc />
    public async IAsyncEnumerator<ObjectRef<T>> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        var runtime = _ray.Runtime;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var end = runtime.WhenReadyAsync(new ObjectId(TaskId, 0), null, stop.Token);
        try
        {
            for (var index = 1; ; index++)
            {
                var id = new ObjectId(TaskId, index);
                using var itemStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                var item = runtime.WhenReadyAsync(id, null, itemStop.Token);
                var first = await Task.WhenAny(item, end).ConfigureAwait(false);
                ObjectValue value;
                if (first == end)
                {
                    itemStop.Cancel();
                    var endValue = await end.ConfigureAwait(false);
                    if (endValue.Error is { } error)
                    {
                        // A failed generator's end record has no count: values it yielded before failing
                        // are still delivered, then the failure.
                        value = await runtime.Directory(TaskId).TryGetAsync(id).ConfigureAwait(false) ?? throw RayErrors.ToException(error);
                    }
                    else if (index > endValue.GeneratorCount)
                    {
                        yield break;
                    }
                    else
                    {
                        // Values are published before the end record, so this one is there.
                        value = await runtime.WhenReadyAsync(id, null, stop.Token).ConfigureAwait(false);
                    }
                }
                else
                {
                    value = await item.ConfigureAwait(false);
                }

                if (value.ProducerNode is { } producer)
                {
                    _ = runtime.Node(producer).AcknowledgeGeneratorAsync(TaskId, index);
                }

                yield return new ObjectRef<T>(id, runtime);
            }
        }
        finally
        {
            stop.Cancel();
        }
    }
}
