using System.Text.Json;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo summary tasks</c>: Ray's <c>ray summary tasks</c>, from <c>GET /api/tasks/summary</c>
/// (<c>{name, type, state, count}</c> rows): one row per task name and type with its count in each state.
/// </summary>
internal sealed class SummaryTasksCommand : AsyncCommand<ListingSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ListingSettings settings, CancellationToken cancellationToken)
    {
        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var summary = await api.GetJsonAsync("/api/tasks/summary", cancellationToken);
        if (settings.Json)
        {
            return JsonOutput.Print(summary);
        }

        var rows = summary.ValueKind == JsonValueKind.Array ? summary.EnumerateArray().ToList() : [];
        var byName = rows
            .Select(r => (Name: Text(r, "name"), Type: Text(r, "type"), State: Text(r, "state"), Count: JsonTable.Find(r, "count") is { ValueKind: JsonValueKind.Number } c ? c.GetInt64() : 0))
            .GroupBy(r => (r.Name, r.Type))
            .OrderBy(g => g.Key.Name, StringComparer.Ordinal).ThenBy(g => g.Key.Type, StringComparer.Ordinal)
            .ToList();
        AnsiConsole.WriteLine($"======== Tasks Summary: {api.Address.ToString().TrimEnd('/')} ========");
        AnsiConsole.WriteLine($"Total: {byName.Count} task name{(byName.Count == 1 ? "" : "s")}, {byName.Sum(g => g.Sum(r => r.Count))} tasks");
        var table = new Table().Border(TableBorder.Simple).AddColumns("FUNC_OR_CLASS_NAME", "TYPE", "STATE_COUNTS", "TOTAL");
        foreach (var group in byName)
        {
            var counts = string.Join("\n", group.OrderBy(r => r.State, StringComparer.Ordinal).Select(r => $"{r.State}: {r.Count}"));
            table.AddRow(new Text(group.Key.Name), new Text(group.Key.Type), new Text(counts), new Text(group.Sum(r => r.Count).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (byName.Count > 0)
        {
            TableOutput.Write(table);
        }

        return ExitCodes.Success;
    }

    private static string Text(JsonElement row, string property) => JsonTable.Find(row, property) is { } value ? JsonTable.Format(value) : "";
}
