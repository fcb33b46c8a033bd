using Orleans.Dashboard;

namespace RayOrleans.Silo.Dashboard;

/// <summary>
/// The Orleans Dashboard (Microsoft.Orleans.Dashboard, the successor of OrleansDashboard) on the node host:
/// the grain-level view under the Ray-level one. Version 10 is hosted in two halves: <c>AddDashboard</c> on the
/// silo (the per-silo statistics grain service, the call profiler, the grains that gather the cluster's
/// numbers) and <c>MapOrleansDashboard</c> on the web application (its page and JSON endpoints). It has no
/// listener of its own, so it is on the host's loopback-only Kestrel like everything else.
/// </summary>
internal static class OrleansDashboardHosting
{
    /// <summary>Where it is mapped; the RayOrleans dashboard links it.</summary>
    public const string Path = "/orleans";

    /// <summary>
    /// Adds its silo half. Its defaults stand: counters sampled every second, and the call profiler on
    /// only while the dashboard is being viewed, so an unwatched node pays next to nothing for it.
    /// </summary>
    public static ISiloBuilder AddOrleansGrainDashboard(this ISiloBuilder silo) => silo.AddDashboard();

    /// <summary>Maps its page and endpoints at <see cref="Path"/>.</summary>
    public static IEndpointRouteBuilder MapOrleansGrainDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOrleansDashboard(routePrefix: Path);
        return endpoints;
    }
}
