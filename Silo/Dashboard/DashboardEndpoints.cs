using Microsoft.Net.Http.Headers;

namespace RayOrleans.Silo.Dashboard;

/// <summary>
/// The RayOrleans dashboard (what Ray's dashboard shows on port 8265): plain HTML pages that read the JSON
/// API of the same host (<c>/api/status</c>, <c>/api/tasks</c>, <c>/api/actors</c>, <c>/api/memory</c>,
/// <c>/api/placement_groups</c>, <c>/api/jobs</c>) and refresh themselves. No server-side rendering: every
/// value reaches the page through the API and is put into it as text by <c>dashboard.js</c>.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>Where the dashboard lives on the host.</summary>
    public const string Path = "/dashboard";

    /// <summary>
    /// Maps <c>/</c> (a redirect to the dashboard), <c>/dashboard/</c> (the overview), <c>/dashboard/PAGE</c>
    /// (a page by name, with or without <c>.html</c>), <c>/dashboard/FILE</c> (its scripts and styles) and
    /// <c>/dashboard/config.json</c> (what the pages need to know about this host).
    /// </summary>
    /// <param name="endpoints">The host's routes.</param>
    /// <param name="orleansDashboardPath">Where the Orleans Dashboard is mapped, or null when it is off.</param>
    public static IEndpointRouteBuilder MapRayDashboard(this IEndpointRouteBuilder endpoints, string? orleansDashboardPath)
    {
        var assets = DashboardAssets.Load(typeof(DashboardEndpoints).Assembly);

        // A person types the host and port; the dashboard is what they came for.
        endpoints.MapGet("/", () => Results.Redirect(Path + "/"));
        // Routing matches /dashboard and /dashboard/ alike; the pages link each other relatively ("tasks"),
        // which resolves inside the folder only from the second, so the first is sent there.
        endpoints.MapGet(Path, (HttpContext context) => context.Request.Path.Value!.EndsWith('/')
            ? Serve(context, assets.Find("index.html")!)
            : Results.Redirect($"{context.Request.PathBase}{Path}/{context.Request.QueryString}"));

        endpoints.MapGet(Path + "/config.json", (ILocalSiloDetails silo) => Results.Json(new
        {
            nodeId = silo.SiloAddress.ToParsableString(),
            orleansDashboard = orleansDashboardPath is null ? null : orleansDashboardPath + "/",
        }));

        endpoints.MapGet(Path + "/{name}", (HttpContext context, string name) =>
            (assets.Find(name) ?? assets.Find(name + ".html")) is { } asset ? Serve(context, asset) : Results.NotFound());
        return endpoints;
    }

    private static IResult Serve(HttpContext context, DashboardAssets.Asset asset)
    {
        // no-cache: revalidate each time (an upgraded host serves its new pages at once), answered by a 304.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ETag = asset.ETag;
        // The pages load only their own files and call only their own host.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
