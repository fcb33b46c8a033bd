using Microsoft.Extensions.Logging;

namespace RayOrleans.Node;

/// <summary>Something on this silo that acts when membership declares another silo dead.</summary>
internal interface INodeDeathHandler
{
    /// <summary>
    /// <paramref name="node"/> was declared dead. Called once per dead silo, on the watcher's loop: a handler with
    /// long work starts it and returns.
    /// </summary>
    Task NodeDiedAsync(string node);
}

/// <summary>
/// Watches Orleans membership on this silo and tells every <see cref="INodeDeathHandler"/> (actor supervision,
/// placement group failover) of each silo declared dead after this one started. Silos dead before it started were
/// handled by the silos alive then.
/// </summary>
internal sealed partial class NodeDeaths(IClusterMembershipService membership, IEnumerable<INodeDeathHandler> handlers, ILogger<NodeDeaths> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly INodeDeathHandler[] _handlers = handlers.ToArray();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(NodeDeaths), ServiceLifecycleStage.Active, _ =>
        {
            _loop = Task.Run(WatchAsync);
            return Task.CompletedTask;
        }, async _ =>
        {
            _stop.Cancel();
            if (_loop is not null)
            {
                await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            }
        });

    private async Task WatchAsync()
    {
        var known = membership.CurrentSnapshot.Members.Where(m => m.Value.Status == SiloStatus.Dead).Select(m => m.Key).ToHashSet();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stop.Token).ConfigureAwait(false))
            {
                var died = snapshot.Members.Where(m => m.Value.Status == SiloStatus.Dead && known.Add(m.Key)).Select(m => m.Key.ToParsableString()).ToList();
                if (died.Count > 0)
                {
                    await Task.WhenAll(died.SelectMany(node => _handlers.Select(handler => TellAsync(handler, node)))).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task TellAsync(INodeDeathHandler handler, string node)
    {
        try
        {
            await handler.NodeDiedAsync(node).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogFailed(logger, handler.GetType().Name, node, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Handler} failed to act on the death of node {Node}.")]
    private static partial void LogFailed(ILogger logger, string handler, string node, Exception exception);
}
