using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Silo.Http;

/// <summary>
/// The node host's HTTP surface: a liveness probe and the cluster's node list, the first pieces of what
/// Ray's dashboard API serves.
/// </summary>
internal static class NodeApiEndpoints
{
    /// <summary>Maps <c>GET /healthz</c> and <c>GET /api/nodes</c>.</summary>
    public static IEndpointRouteBuilder MapNodeApi(this IEndpointRouteBuilder endpoints)
    {
        // Kestrel starts after the silo (the silo's hosted service is registered first), so an answer here
        // means the node has joined its cluster.
        endpoints.MapGet("/healthz", () => Results.Text("ok"));

        // Every node's latest report (resources, load), as the cluster view holds it; ordered by node id.
        endpoints.MapGet("/api/nodes", async (IGrainFactory grains) =>
        {
            NodeReport[] nodes = await grains.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync();
            return Results.Json(nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal));
        });
        return endpoints;
    }
}
