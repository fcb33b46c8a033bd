using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using RayOrleans.Cli.Api;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo memory</c>: Ray's <c>ray memory</c>, from <c>GET /api/memory?top=N</c>: each node's object store
/// (used, pooled, spilled, capacity) and its largest objects with their owner and readers.
/// </summary>
internal sealed class MemoryCommand : AsyncCommand<MemoryCommand.Settings>
{
    internal sealed class Settings : ListingSettings
    {
        [CommandOption("--top <N>")]
        [Description("The N largest objects of each node. Default: 10.")]
        public int Top { get; set; } = 10;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Top is < 0 or > 10_000)
        {
            throw CliException.BadInput($"--top: {settings.Top} is not between 0 and 10000.");
        }

        using var api = new ClusterApiClient(ApiAddress.Resolve(settings.Address, settings.SessionDir));
        var memory = await api.GetJsonAsync($"/api/memory?top={settings.Top.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
        if (settings.Json)
        {
            return JsonOutput.Print(memory);
        }

        var nodes = memory.ValueKind == JsonValueKind.Array ? memory.EnumerateArray().ToList() : [];
        AnsiConsole.WriteLine($"======== Object store memory: {api.Address.ToString().TrimEnd('/')} ========");
        var summary = new Table().Border(TableBorder.Simple).AddColumns("NODE_ID", "OBJECTS", "USED", "POOLED", "SPILLED", "CAPACITY");
        foreach (var node in nodes)
        {
            summary.AddRow(
                new Text(Text(node, "nodeId")), new Text(Text(node, "count")), new Text(Bytes(node, "used")),
                new Text(Bytes(node, "pooled")), new Text(Bytes(node, "spilled")), new Text(Bytes(node, "capacity")));
        }

        TableOutput.Write(summary);
        foreach (var node in nodes)
        {
            var largest = JsonTable.Find(node, "largest") is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().ToList() : [];
            if (largest.Count == 0)
            {
                continue;
            }

            AnsiConsole.WriteLine($"Largest objects on {Text(node, "nodeId")}:");
            var table = new Table().Border(TableBorder.Simple).AddColumns("OBJECT_ID", "SIZE", "SPILLED", "READERS", "OWNER", "CREATOR", "COPIES");
            foreach (var item in largest)
            {
                table.AddRow(
                    new Text(Text(item, "id")), new Text(Bytes(item, "size")), new Text(Text(item, "spilled")), new Text(Text(item, "readers")),
                    new Text(Text(item, "owner")), new Text(Text(item, "creator")), new Text(Text(item, "copies")));
            }

            TableOutput.Write(table);
        }

        return ExitCodes.Success;
    }

    private static string Text(JsonElement row, string property) => JsonTable.Find(row, property) is { } value ? JsonTable.Format(value) : "";

    private static string Bytes(JsonElement row, string property) =>
        JsonTable.Find(row, property) is { ValueKind: JsonValueKind.Number } value ? Units.Bytes(value.GetDouble()) : "";
}
