using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Silo.Http;

/// <summary>
/// The node host's HTTP surface: a liveness probe and the cluster's node list, the first pieces of what
/// Ray's dashboard API serves.
/// </summary>
internal static class NodeApiEndpoints
{
    /// <summary>Maps <c>GET /healthz</c>, <c>GET /api/nodes</c>, <c>GET /api/status</c> (with the autoscaler's state) and <c>GET /api/memory</c>.</summary>
    public static IEndpointRouteBuilder MapNodeApi(this IEndpointRouteBuilder endpoints)
    {
        // Kestrel starts after the silo (the silo's hosted service is registered first), so an answer here
        // means the node has joined its cluster.
        endpoints.MapGet("/healthz", () => Results.Text("ok"));

        // Every node's latest report (resources, load), as the cluster view holds it; ordered by node id.
        endpoints.MapGet("/api/nodes", async (IGrainFactory grains) =>
        {
            // Through the failover window: the view grain may be moving off a silo that just died.
            var nodes = await TransientRetry.ReadAsync(() => grains.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync());
            return Results.Json(nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal));
        });
        // Ray's `ray status`: nodes, demands queued on them, and infeasible demands waiting for a node that fits;
        // with an autoscaler, its node types, nodes and latest decisions ("autoscaler", null without one).
        endpoints.MapGet("/api/status", async (IGrainFactory grains) =>
        {
            var status = TransientRetry.ReadAsync(() => grains.GetGrain<IClusterResourcesGrain>(0).GetStatusAsync());
            var autoscaler = TransientRetry.ReadAsync(() => grains.GetGrain<IAutoscalerStateGrain>(0).GetStateAsync());
            return Results.Json((await status) with { Autoscaler = await autoscaler });
        });

        // Every node's object store and its largest objects (Ray's `ray memory`); ?top=N, default 10.
        endpoints.MapGet("/api/memory", async (IGrainFactory grains, int? top) =>
        {
            if (top is < 0 or > 10_000)
            {
                return Results.BadRequest($"top must be between 0 and 10000; got {top}.");
            }

            var nodes = await TransientRetry.ReadAsync(() => grains.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync());
            var memory = await ClusterState.AskAllAsync(grains, nodes.Select(n => n.NodeId), n => n.GetMemoryAsync(top ?? 10));
            return Results.Json(memory.OrderBy(m => m.NodeId, StringComparer.Ordinal));
        });
        // Tasks, actors, objects and placement groups (Ray's state API).
        endpoints.MapStateApi();
        return endpoints;
    }
}
