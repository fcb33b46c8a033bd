using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RayOrleans.Runtime;

namespace RayOrleans.Node;

/// <summary>This silo as a Ray node: its id (the silo address) and the runtime its tasks' nested calls use.</summary>
internal sealed class NodeRuntime
{
    public NodeRuntime(ILocalSiloDetails silo, IGrainFactory grains, IOptions<RuntimeOptions> options, NodeObjectStore store, ILoggerFactory loggers)
    {
        NodeId = silo.SiloAddress.ToParsableString();
        Cluster = new ClusterView(grains, options.Value.ClusterRefreshInterval);
        Runtime = new RayRuntime(grains, Cluster, options.Value, store, NodeId, loggers.CreateLogger<RayRuntime>());
        store.Removed = id =>
        {
            // The primary went: the copies other nodes pulled of it go with it. (A node that is gone took its copy along.)
            foreach (var copy in Copies.Forget(id, NodeId))
            {
                _ = Runtime.Node(copy).FreeObjectsAsync([id]).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            }
        };
        store.Reclaim = () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Runtime.Owned.DrainReleases();
        };
    }

    public string NodeId { get; }

    public ClusterView Cluster { get; }

    public RayRuntime Runtime { get; }

    /// <summary>
    /// The autoscaler is draining this node (<see cref="NodeDrain"/>): its report says so, and the scheduler passes
    /// new work on. One flag read where a task would be queued here, so the task path costs nothing more.
    /// </summary>
    public volatile bool Draining;

    /// <summary>The copies other nodes pulled of the objects this node made, and the pulls each source is serving.</summary>
    public ObjectCopies Copies { get; } = new();
}
