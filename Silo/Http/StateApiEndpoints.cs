using System.Text.Json;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Silo.Http;

/// <summary>
/// The state API over HTTP (what Ray's dashboard serves to <c>ray list</c>): tasks, actors, objects and
/// placement groups of the whole cluster, as JSON arrays of flat objects. Every query parameter but
/// <c>limit</c> is a filter, a property name and the value it must equal (ignoring case); <c>limit</c> caps
/// the rows (default 100, at most 10,000). A filter naming no property is a 400 that lists the properties.
/// </summary>
internal static class StateApiEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 10_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps <c>GET /api/tasks</c>, <c>/api/tasks/summary</c>, <c>/api/actors</c>, <c>/api/objects</c>, <c>/api/placement_groups</c> and <c>/api/logs</c>.</summary>
    public static IEndpointRouteBuilder MapStateApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/tasks", async (HttpRequest request, IGrainFactory grains) =>
        {
            if (!TryReadFilters(request, out var filters, out var limit, out var bad))
            {
                return bad;
            }

            // Filters the nodes understand go to them, so each sends back only its matching rows.
            var query = new TaskQuery
            {
                State = Take(filters, "state"), Name = Take(filters, "name"), JobId = Take(filters, "jobId"), Type = Take(filters, "type"),
                Limit = filters.Count == 0 ? limit : MaxLimit,
            };
            if (Take(filters, "taskId") is { } taskId)
            {
                if (!Guid.TryParse(taskId, out var id))
                {
                    return Results.BadRequest($"taskId '{taskId}' is not a task id (a GUID).");
                }

                query = query with { TaskId = id };
            }

            if (Take(filters, "actorId") is { } actorId)
            {
                if (!Guid.TryParse(actorId, out var id))
                {
                    return Results.BadRequest($"actorId '{actorId}' is not an actor id (a GUID).");
                }

                query = query with { ActorId = id };
            }

            var rows = await ClusterState.ListTasksAsync(grains, await NodesAsync(grains), query);
            return Filtered(rows, filters, limit, "tasks");
        });

        endpoints.MapGet("/api/tasks/summary", async (IGrainFactory grains) =>
            Results.Json(await ClusterState.SummarizeTasksAsync(grains, await NodesAsync(grains)), Json));

        endpoints.MapGet("/api/actors", async (HttpRequest request, IGrainFactory grains) =>
        {
            if (!TryReadFilters(request, out var filters, out var limit, out var bad))
            {
                return bad;
            }

            var query = new ActorQuery
            {
                State = Take(filters, "state"), ClassName = Take(filters, "className"), Name = Take(filters, "name"), JobId = Take(filters, "jobId"),
                Limit = filters.Count == 0 ? limit : MaxLimit,
            };
            var rows = await ClusterState.ListActorsAsync(grains, await NodesAsync(grains), query);
            return Filtered(rows.Select(a => new
            {
                actorId = a.ActorId.Value, a.State, a.ClassName, a.Name, a.Namespace, a.JobId, nodeId = a.Node, a.Restarts, a.MaxRestarts,
                a.Detached, a.PendingCalls, resources = a.Resources?.ToString(), a.StartTime, a.EndTime, a.DeathCause,
            }), filters, limit, "actors");
        });

        endpoints.MapGet("/api/objects", async (HttpRequest request, IGrainFactory grains) =>
        {
            if (!TryReadFilters(request, out var filters, out var limit, out var bad))
            {
                return bad;
            }

            // Each node's largest stored objects: what holds memory, which is what a listing of objects is for.
            var nodes = await NodesAsync(grains);
            var memory = await ClusterState.AskAllAsync(grains, nodes, n => n.GetMemoryAsync(MaxLimit));
            var rows = memory.SelectMany(m => m.Largest.Select(o => new
            {
                objectId = o.Id.ToString(), nodeId = m.NodeId, sizeBytes = o.Size, o.Spilled, o.Readers, o.PulledFrom, copies = o.Copies.Count,
            })).OrderByDescending(o => o.sizeBytes);
            return Filtered(rows, filters, limit, "objects");
        });

        endpoints.MapGet("/api/placement_groups", async (HttpRequest request, IGrainFactory grains) =>
        {
            if (!TryReadFilters(request, out var filters, out var limit, out var bad))
            {
                return bad;
            }

            var groups = await ClusterState.ListPlacementGroupsAsync(grains, await NodesAsync(grains), MaxLimit);
            return Filtered(groups.Select(g => new
            {
                placementGroupId = g.Id.ToString(), g.Spec.Name, g.Spec.Namespace, state = g.State.ToString().ToUpperInvariant(),
                strategy = g.Spec.Strategy.ToString(), bundles = string.Join(", ", g.Spec.Bundles.Select(b => b.ToString())),
                bundleNodes = string.Join(", ", g.BundleNodes), g.PendingReason, g.Infeasible,
            }), filters, limit, "placement groups");
        });
        // The drivers connected to the cluster, and the recently ended (Ray's DRIVER jobs): status, pid, command line.
        endpoints.MapGet("/api/drivers", async (HttpRequest request, IGrainFactory grains) =>
        {
            if (!TryReadFilters(request, out var filters, out var limit, out var bad))
            {
                return bad;
            }

            return Filtered(await TransientRetry.ReadAsync(() => grains.GetGrain<IJobRegistryGrain>(0).ListAsync()), filters, limit, "drivers");
        });

        // A job's task and actor output as the cluster keeps it (its last 10,000 lines): ?jobId=ID (required), limit.
        endpoints.MapGet("/api/logs", async (HttpRequest request, IGrainFactory grains) =>
        {
            if (!TryReadFilters(request, out var filters, out var limit, out var bad))
            {
                return bad;
            }

            if (Take(filters, "jobId") is not { Length: > 0 } jobId)
            {
                return Results.BadRequest("jobId is required: the job whose task output to read.");
            }

            var max = request.Query.ContainsKey("limit") ? limit : 1000; // a log reads its last 1000 lines unless told
            var tail = await TransientRetry.ReadAsync(() => grains.GetGrain<IJobLogGrain>(jobId).TailAsync(max));
            return Filtered(tail.Lines.Select(l => new { time = l.Time, source = l.Source, nodeId = l.NodeId, pid = l.Pid, isError = l.IsError, text = l.Text, line = l.ToString() }),
                filters, MaxLimit, "log lines");
        });
        return endpoints;
    }

    /// <summary>The nodes the cluster view lists, read through the failover window (the view grain may be moving off a silo that just died).</summary>
    private static async Task<string[]> NodesAsync(IGrainFactory grains) =>
        (await TransientRetry.ReadAsync(() => grains.GetGrain<IClusterResourcesGrain>(0).GetNodesAsync())).Select(n => n.NodeId).ToArray();

    /// <summary>Reads the filters and limit of a listing request; false with a 400 naming the bad limit.</summary>
    internal static bool TryReadFilters(HttpRequest request, out Dictionary<string, string> filters, out int limit, out IResult bad)
    {
        filters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        limit = DefaultLimit;
        bad = Results.Ok();
        foreach (var (key, values) in request.Query)
        {
            var value = values.ToString();
            if (string.Equals(key, "limit", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, out limit) || limit < 0 || limit > MaxLimit)
                {
                    bad = Results.BadRequest($"limit must be a whole number from 0 to {MaxLimit}; got '{value}'.");
                    return false;
                }

                continue;
            }

            filters[key] = value;
        }

        return true;
    }

    /// <summary>Removes and returns a filter the nodes apply themselves.</summary>
    private static string? Take(Dictionary<string, string> filters, string name) => filters.Remove(name, out var value) ? value : null;

    /// <summary>Applies the remaining filters to the rows' JSON properties, then the limit.</summary>
    internal static IResult Filtered<T>(IEnumerable<T> rows, Dictionary<string, string> filters, int limit, string what, JsonSerializerOptions? json = null)
    {
        json ??= Json;
        var elements = rows.Select(r => JsonSerializer.SerializeToElement(r, json)).ToList();
        if (filters.Count > 0)
        {
            var sample = elements.FirstOrDefault();
            foreach (var name in filters.Keys)
            {
                if (sample.ValueKind == JsonValueKind.Object && !sample.EnumerateObject().Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
                {
                    return Results.BadRequest($"No property '{name}' to filter {what} by; the properties are: {string.Join(", ", sample.EnumerateObject().Select(p => p.Name))}.");
                }
            }

            elements = elements.Where(e => filters.All(f => Matches(e, f.Key, f.Value))).ToList();
        }

        return Results.Json(elements.Take(limit), json);
    }

    private static bool Matches(JsonElement row, string name, string value)
    {
        foreach (var property in row.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                var text = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
                return string.Equals(text, value, StringComparison.OrdinalIgnoreCase);
            }
        }

        return false;
    }
}
