using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace RayOrleans.Runtime;

/// <summary>
/// Rebuilding the object directory after a node dies. The directory's shards live in memory on the nodes, so a shard
/// on a dead node takes its records with it; the processes are the source of truth (Ray's ownership design), and
/// each re-publishes, when membership declares a node dead, the records of the escaped objects it owns and the
/// holds it has (<see cref="OwnedObjects.Republish"/>), and those of the actors and handed-off tasks living here
/// (<see cref="HostedHolds"/>). Which shard lived on the dead node is not tracked: all of
/// it goes, batched by the publisher (one message per shard per 10,000 changes), and a shard that survived ignores
/// what it already has. Nothing of this runs per task: only when a node leaves the cluster view.
/// </summary>
internal sealed partial class RayRuntime
{
    /// <summary>Nodes that left the cluster view and are not yet known to be dead (a silent node comes back).</summary>
    private readonly ConcurrentDictionary<string, byte> _leftNodes = new(StringComparer.Ordinal);
    private int _watchingLeft;

    /// <summary>Nodes declared dead that this runtime re-published for (silo addresses are never reused: a restart is a new one).</summary>
    private readonly ConcurrentDictionary<string, byte> _republishedFor = new(StringComparer.Ordinal);

    /// <summary>How often membership is asked about nodes that left the view, while there are any.</summary>
    private static readonly TimeSpan LeftNodeCheck = TimeSpan.FromSeconds(1);

    /// <summary>How long membership's answer about nodes that left may take before it is asked again.</summary>
    private static readonly TimeSpan MembershipAnswer = TimeSpan.FromSeconds(5);

    /// <summary>How long a re-publish may take before it is reported as slow (its sends go on, with their retries).</summary>
    private static readonly TimeSpan RepublishLimit = TimeSpan.FromSeconds(30);

    /// <summary>Re-publishes done so far, and the last one's size and duration (for logs, tests and the docs' measure).</summary>
    public RepublishStats LastRepublish { get; private set; } = new(0, 0, TimeSpan.Zero);

    /// <summary>One round of re-publishing: the rounds so far, the objects it covered and how long it took to send.</summary>
    public sealed record RepublishStats(int Rounds, int Objects, TimeSpan Elapsed);

    private void OnNodesLeft(IReadOnlyList<string> nodes)
    {
        var any = false;
        foreach (var node in nodes)
        {
            // A node is named again when it left the list at one refresh and membership's verdict came with a later one.
            if (!_republishedFor.ContainsKey(node))
            {
                any |= _leftNodes.TryAdd(node, 0);
            }
        }

        if (!any)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _watchingLeft, 1, 0) == 0)
        {
            _ = Task.Run(WatchLeftNodesAsync);
        }
    }

    /// <summary>
    /// Waits for membership's verdict on the nodes that left the view: a node silent past its report deadline is
    /// not dead yet, and its shards are still there; once it is declared dead, Orleans activates its shards again
    /// elsewhere (empty), and this process re-publishes into them.
    /// </summary>
    private async Task WatchLeftNodesAsync()
    {
        WorkerContext.Leave();
        while (true)
        {
            try
            {
                // Bounded: the management grain may have lived on the dead silo, and a driver's call to it then waits
                // for the 30 s response timeout (a silo's own calls fail when the verdict comes; a client's do not).
                // Not asked when the cluster view's list of dead silos already has the verdict on every one.
                var watched = _leftNodes.Keys.ToArray();
                var hosts = watched.All(Cluster.IsDead)
                    ? null
                    : await Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).WaitAsync(MembershipAnswer).ConfigureAwait(false);
                var reported = Cluster.Reported.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
                var dead = new List<string>();
                foreach (var node in watched)
                {
                    if (!TryParseSilo(node, out var silo))
                    {
                        _leftNodes.TryRemove(node, out _); // not a silo's address: nothing of the directory lived there
                        continue;
                    }

                    if (Cluster.IsDead(node) || hosts is null || !hosts.TryGetValue(silo, out var status) || status == SiloStatus.Dead)
                    {
                        dead.Add(node);
                        _republishedFor.TryAdd(node, 0);
                        _leftNodes.TryRemove(node, out _);
                    }
                    else if (reported.Contains(node))
                    {
                        _leftNodes.TryRemove(node, out _); // it reports again: nothing was lost
                    }
                }

                if (dead.Count > 0)
                {
                    await RepublishAfterNodeLossAsync(dead).ConfigureAwait(false);
                }
            }
            catch (ObjectDisposedException)
            {
                Volatile.Write(ref _republishStopped, true); // this runtime's host is gone: nothing left to re-publish from
            }
            catch (Exception e)
            {
                LogLeftNodeCheckFailed(_logger, e);
            }

            if (_leftNodes.IsEmpty || Volatile.Read(ref _republishStopped))
            {
                Volatile.Write(ref _watchingLeft, 0);
                // A node may have left between the look and the flag clearing.
                if (_leftNodes.IsEmpty || Volatile.Read(ref _republishStopped) || Interlocked.CompareExchange(ref _watchingLeft, 1, 0) != 0)
                {
                    return;
                }
            }

            await Task.Delay(LeftNodeCheck).ConfigureAwait(false);
        }
    }

    private static bool TryParseSilo(string node, out SiloAddress silo)
    {
        try
        {
            silo = SiloAddress.FromParsableString(node);
            return true;
        }
        catch (FormatException)
        {
            silo = null!;
            return false;
        }
    }

    private bool _republishStopped;

    private void StopRepublishing()
    {
        Volatile.Write(ref _republishStopped, true);
        Cluster.NodesLeft -= OnNodesLeft;
    }

    /// <summary>Queues everything this process is the source of truth for and waits (bounded) until it is sent.</summary>
    private async Task RepublishAfterNodeLossAsync(IReadOnlyList<string> dead)
    {
        var clock = Stopwatch.StartNew();
        var objects = Owned.Republish() + Hosted.Republish();
        var sent = Publisher.FlushAsync();
        if (await Task.WhenAny(sent, Task.Delay(RepublishLimit)).ConfigureAwait(false) != sent)
        {
            LogRepublishSlow(_logger, objects, string.Join(", ", dead), RepublishLimit);
            await sent.ConfigureAwait(false);
        }

        LastRepublish = new RepublishStats(LastRepublish.Rounds + 1, objects, clock.Elapsed);
        LogRepublished(_logger, objects, string.Join(", ", dead), clock.Elapsed.TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-published {Count} owned and held objects to the directory after node(s) {Nodes} died, in {Ms:0} ms.")]
    private static partial void LogRepublished(ILogger logger, int count, string nodes, double ms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-publishing {Count} objects after node(s) {Nodes} died takes longer than {Limit}; it goes on.")]
    private static partial void LogRepublishSlow(ILogger logger, int count, string nodes, TimeSpan limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asking membership about nodes that left the cluster view failed; trying again.")]
    private static partial void LogLeftNodeCheckFailed(ILogger logger, Exception exception);
}
