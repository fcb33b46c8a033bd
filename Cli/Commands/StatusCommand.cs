using System.Text.Json;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo status</c>: Ray's <c>ray status</c>, from <c>GET /api/status</c>: the alive nodes, resources used of
/// the total per kind, and the demands waiting (pending: queued on a node; infeasible: no node can hold them);
/// with an autoscaler, its node types, nodes and latest decisions with their reasons.
/// </summary>
internal sealed class StatusCommand : AsyncCommand<ListingSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ListingSettings settings, CancellationToken cancellationToken)
    {
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var status = await api.GetJsonAsync("/api/status", cancellationToken);
        if (settings.Json)
        {
            return JsonOutput.Print(status);
        }

        var nodes = Array(status, "nodes");
        AnsiConsole.WriteLine($"======== Cluster status: {api.Address.ToString().TrimEnd('/')} ========");
        AnsiConsole.WriteLine("Node status");
        AnsiConsole.WriteLine(new string('-', 60));
        AnsiConsole.WriteLine("Active:");
        AnsiConsole.WriteLine($" {nodes.Count} node{(nodes.Count == 1 ? "" : "s")}");
        var table = new Table().Border(TableBorder.Simple).AddColumns("NODE_ID", "CPU", "GPU", "MEMORY", "OBJECT_STORE", "QUEUED", "RUNNING", "ACTORS", "LABELS");
        foreach (var node in nodes)
        {
            var total = Units.Amounts(JsonTable.Find(node, "total"));
            var available = Units.Amounts(JsonTable.Find(node, "available"));
            table.AddRow(
                new Text(Text(node, "nodeId")),
                new Text(Usage("CPU", total, available)),
                new Text(Usage("GPU", total, available)),
                new Text(Usage("memory", total, available)),
                new Text($"{Units.Bytes(Number(node, "objectStoreUsed"))}/{Units.Bytes(Number(node, "objectStoreCapacity"))}"),
                new Text(Text(node, "queued")),
                new Text(Text(node, "running")),
                new Text(Text(node, "actors")),
                new Text(Text(node, "labels")));
        }

        if (nodes.Count > 0)
        {
            TableOutput.Write(table);
        }

        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine("Resources");
        AnsiConsole.WriteLine(new string('-', 60));
        AnsiConsole.WriteLine("Usage:");
        var totals = Sum(nodes, "total");
        var availables = Sum(nodes, "available");
        foreach (var resource in totals.Keys.OrderBy(k => k is "CPU" ? 0 : k is "GPU" ? 1 : k is "memory" ? 3 : 2).ThenBy(k => k, StringComparer.Ordinal))
        {
            AnsiConsole.WriteLine($" {Usage(resource, totals, availables)} {resource}");
        }

        var storeUsed = nodes.Sum(n => Number(n, "objectStoreUsed"));
        var storeCapacity = nodes.Sum(n => Number(n, "objectStoreCapacity"));
        AnsiConsole.WriteLine($" {Units.Bytes(storeUsed)}/{Units.Bytes(storeCapacity)} object_store_memory");
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine("Demands:");
        var pending = Array(status, "pending");
        var infeasible = Array(status, "infeasible");
        if (pending.Count == 0 && infeasible.Count == 0)
        {
            AnsiConsole.WriteLine(" (no resource demands)");
        }

        foreach (var (label, demands) in new[] { ("pending", pending), ("infeasible", infeasible) })
        {
            foreach (var demand in demands)
            {
                var example = Text(demand, "example");
                AnsiConsole.WriteLine($" {Units.Shape(Units.Amounts(JsonTable.Find(demand, "demand")))}: {Text(demand, "count")}+ {label}{(example.Length > 0 ? $" (e.g. {example})" : "")}");
            }
        }

        if (JsonTable.Find(status, "autoscaler") is { ValueKind: JsonValueKind.Object } autoscaler)
        {
            PrintAutoscaler(autoscaler);
        }

        return ExitCodes.Success;
    }

    /// <summary>The most recent autoscaler decisions shown; <c>--json</c> has all the autoscaler keeps.</summary>
    private const int DecisionsShown = 10;

    /// <summary>The autoscaler's node types, nodes, standing requests and latest decisions with their reasons.</summary>
    private static void PrintAutoscaler(JsonElement autoscaler)
    {
        AnsiConsole.WriteLine();
        var updated = JsonTable.Find(autoscaler, "updated") is { ValueKind: JsonValueKind.String } u && u.TryGetDateTime(out var time) ? time.ToUniversalTime() : (DateTime?)null;
        var age = updated is { } at ? $", updated {Math.Max(0, (DateTime.UtcNow - at).TotalSeconds):0.#} s ago" : "";
        AnsiConsole.WriteLine($"Autoscaler ({Text(autoscaler, "provider")}{age})");
        AnsiConsole.WriteLine(new string('-', 60));
        AnsiConsole.WriteLine("Node types:");
        foreach (var type in Array(autoscaler, "nodeTypes"))
        {
            AnsiConsole.WriteLine(
                $" {Text(type, "name")} {Units.Shape(Units.Amounts(JsonTable.Find(type, "resources")))}: {Text(type, "running")} running, " +
                $"{Text(type, "starting")} starting (min {Text(type, "minWorkers")}, max {Text(type, "maxWorkers")})");
        }

        var nodes = Array(autoscaler, "nodes");
        if (nodes.Count > 0)
        {
            AnsiConsole.WriteLine("Nodes:");
            foreach (var node in nodes)
            {
                var nodeId = Text(node, "nodeId");
                AnsiConsole.WriteLine($" {Text(node, "instanceId")} {Text(node, "nodeType")} {Text(node, "state")}{(nodeId.Length > 0 ? " " + nodeId : "")}");
            }
        }

        var requests = Array(autoscaler, "resourceRequests");
        if (requests.Count > 0)
        {
            AnsiConsole.WriteLine("Resource requests:");
            foreach (var group in requests.Select(r => Units.Shape(Units.Amounts(r))).GroupBy(r => r, StringComparer.Ordinal))
            {
                AnsiConsole.WriteLine($" {group.Key}: {group.Count()}");
            }
        }

        foreach (var (label, property) in new[] { ("infeasible (fit no node type)", "infeasible"), ("waiting for room (MaxWorkers, upscaling speed)", "unfulfilled") })
        {
            foreach (var demand in Array(autoscaler, property))
            {
                AnsiConsole.WriteLine($" {Units.Shape(Units.Amounts(JsonTable.Find(demand, "demand")))}: {Text(demand, "count")} {label}");
            }
        }

        var decisions = Array(autoscaler, "decisions");
        AnsiConsole.WriteLine("Recent decisions:");
        if (decisions.Count == 0)
        {
            AnsiConsole.WriteLine(" (none yet)");
        }

        foreach (var decision in decisions.TakeLast(DecisionsShown))
        {
            var when = JsonTable.Find(decision, "time") is { ValueKind: JsonValueKind.String } t && t.TryGetDateTime(out var decided) ? decided.ToUniversalTime().ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "";
            var type = Text(decision, "nodeType");
            var count = Number(decision, "count");
            var what = count > 0 && type.Length > 0 ? $" {count} x {type}" : type.Length > 0 ? $" {type}" : "";
            var instances = Text(decision, "instances");
            AnsiConsole.WriteLine($" {when} {Text(decision, "action")}{what}{(instances.Length > 0 ? $" [{instances}]" : "")}: {Text(decision, "reason")}");
        }
    }

    /// <summary><c>used/total</c> of one resource, as <c>ray status</c> prints it.</summary>
    private static string Usage(string resource, Dictionary<string, double> total, Dictionary<string, double> available)
    {
        var all = total.GetValueOrDefault(resource);
        var used = all - available.GetValueOrDefault(resource);
        return $"{Units.Resource(resource, used)}/{Units.Resource(resource, all)}";
    }

    private static Dictionary<string, double> Sum(IEnumerable<JsonElement> nodes, string property)
    {
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var (name, amount) in Units.Amounts(JsonTable.Find(node, property)))
            {
                sum[name] = sum.GetValueOrDefault(name) + amount;
            }
        }

        return sum;
    }

    private static List<JsonElement> Array(JsonElement document, string property) =>
        JsonTable.Find(document, property) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().ToList() : [];

    private static string Text(JsonElement row, string property) => JsonTable.Find(row, property) is { } value ? JsonTable.Format(value) : "";

    private static double Number(JsonElement row, string property) =>
        JsonTable.Find(row, property) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : 0;
}
