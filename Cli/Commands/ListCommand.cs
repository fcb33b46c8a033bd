using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;
using Column = RayOrleans.Cli.Rendering.JsonTable.Column;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo list KIND</c>: Ray's <c>ray list</c>, from <c>GET /api/{kind}</c> with the filters and the limit as
/// query parameters, which the node applies (a 400 naming a property the rows lack is bad input). <c>/api/nodes</c>
/// takes neither, so for nodes they are applied here, by the same rule.
/// </summary>
internal sealed class ListCommand : AsyncCommand<ListCommand.Settings>
{
    /// <summary>The kinds, by the name a user types, with the API's path segment and the columns shown first.</summary>
    private static readonly Dictionary<string, (string Path, Column[] Columns)> Kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["nodes"] = ("nodes",
        [
            new("NODE_ID", "nodeId"), new("HOST_ID", "hostId"), new("CPU_TOTAL", "total.amounts.CPU"), new("CPU_AVAILABLE", "available.amounts.CPU"),
            new("GPU_TOTAL", "total.amounts.GPU"), new("QUEUED", "queued"), new("RUNNING", "running"), new("ACTORS", "actors"),
            new("OBJECTS", "objectCount"), new("LABELS", "labels"),
        ]),
        ["actors"] = ("actors",
        [
            new("ACTOR_ID", "actorId"), new("CLASS_NAME", "className"), new("NAME", "name"), new("STATE", "state"),
            new("NODE_ID", "nodeId"), new("JOB_ID", "jobId"), new("RESTARTS", "restarts"), new("PENDING_CALLS", "pendingCalls"),
            new("DEATH_CAUSE", "deathCause"),
        ]),
        ["tasks"] = ("tasks",
        [
            new("TASK_ID", "taskId"), new("ATTEMPT", "attempt"), new("NAME", "name"), new("STATE", "state"), new("TYPE", "type"),
            new("NODE_ID", "nodeId"), new("ACTOR_ID", "actorId"), new("JOB_ID", "jobId"), new("ERROR_TYPE", "errorType"),
        ]),
        ["objects"] = ("objects",
        [
            new("OBJECT_ID", "objectId"), new("SIZE_BYTES", "sizeBytes"), new("NODE_ID", "nodeId"), new("SPILLED", "spilled"),
            new("READERS", "readers"), new("PULLED_FROM", "pulledFrom"), new("COPIES", "copies"),
        ]),
        ["jobs"] = ("jobs",
        [
            new("SUBMISSION_ID", "submissionId"), new("STATUS", "status"), new("ENTRYPOINT", "entrypoint"), new("START_TIME", "startTime"),
            new("END_TIME", "endTime"), new("EXIT_CODE", "exitCode"), new("MESSAGE", "message"),
        ]),
        ["drivers"] = ("drivers",
        [
            new("JOB_ID", "jobId"), new("STATUS", "status"), new("HOST", "host"), new("PID", "pid"), new("START_TIME", "startTime"),
            new("END_TIME", "endTime"), new("MESSAGE", "message"),
        ]),
        ["placement-groups"] = ("placement_groups",
        [
            new("PLACEMENT_GROUP_ID", "placementGroupId"), new("NAME", "name"), new("STATE", "state"), new("STRATEGY", "strategy"),
            new("BUNDLES", "bundles"), new("BUNDLE_NODES", "bundleNodes"), new("PENDING_REASON", "pendingReason"),
        ]),
    };

    internal sealed class Settings : ListingSettings
    {
        [CommandArgument(0, "<KIND>")]
        [Description("nodes, actors, tasks, objects, jobs (submitted), drivers (every driver connected, Ray's DRIVER jobs) or placement-groups.")]
        public string Kind { get; set; } = "";

        [CommandOption("--filter <KEY=VALUE>")]
        [Description("Only rows whose property KEY equals VALUE (case-insensitive); repeat for several.")]
        public string[] Filters { get; set; } = [];

        [CommandOption("--limit <N>")]
        [Description("At most N rows. Default: 100.")]
        public int Limit { get; set; } = 100;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var kind = settings.Kind.Replace('_', '-');
        if (!Kinds.TryGetValue(kind, out var shape))
        {
            throw CliException.BadInput($"unknown list kind '{settings.Kind}'; expected one of {string.Join(", ", Kinds.Keys)}.");
        }

        if (settings.Limit is < 1 or > 10_000)
        {
            throw CliException.BadInput($"--limit: {settings.Limit} is not a number of rows from 1 to 10000.");
        }

        var filters = ParseFilters(settings.Filters);
        var query = string.Join('&', filters.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}")
            .Append($"limit={settings.Limit.ToString(CultureInfo.InvariantCulture)}"));
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var document = await api.GetJsonAsync($"/api/{shape.Path}?{query}", cancellationToken);
        if (document.ValueKind != JsonValueKind.Array)
        {
            throw CliException.Failure($"{api.Address}api/{shape.Path} answered a JSON {document.ValueKind.ToString().ToLowerInvariant()}, not an array.");
        }

        var rows = document.EnumerateArray()
            .Where(row => shape.Path != "nodes" || filters.All(f => Matches(row, f.Key, f.Value)))
            .Take(settings.Limit).ToList();
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(rows));
            return ExitCodes.Success;
        }

        AnsiConsole.WriteLine($"{rows.Count} {kind}{(rows.Count == settings.Limit ? $" (the first {settings.Limit}; --limit shows more)" : "")}");
        if (rows.Count > 0)
        {
            TableOutput.Write(JsonTable.Build(rows, shape.Columns));
        }

        return ExitCodes.Success;
    }

    /// <summary><c>key=value</c> pairs; a filter without <c>=</c> or without a key is bad input.</summary>
    public static List<KeyValuePair<string, string>> ParseFilters(IEnumerable<string> filters) =>
        filters.Select(f => f.IndexOf('=', StringComparison.Ordinal) is > 0 and var equals
                ? KeyValuePair.Create(f[..equals].Trim(), f[(equals + 1)..].Trim())
                : throw CliException.BadInput($"--filter: '{f}' is not key=value, for example state=RUNNING."))
            .ToList();

    /// <summary>The state API's rule: the property, by name ignoring case, equals the value ignoring case (a string as it is, else its JSON).</summary>
    private static bool Matches(JsonElement row, string key, string value) =>
        row.ValueKind == JsonValueKind.Object && JsonTable.TryGetProperty(row, key, out var property) &&
        (property.ValueKind == JsonValueKind.String ? property.GetString() : property.GetRawText())!.Equals(value, StringComparison.OrdinalIgnoreCase);
}
