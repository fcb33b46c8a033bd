using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace RayOrleans.Cli.Rendering;

/// <summary>
/// Renders an array of JSON objects as a table: the preferred columns that the rows have (dotted paths
/// reach into nested objects, <c>total.amounts.CPU</c>), or, when the rows have none of them (a kind whose
/// shape this rayo does not know), every scalar property the rows have, in first-seen order.
/// </summary>
internal static class JsonTable
{
    /// <summary>A column: its header and the dotted path of its value.</summary>
    public sealed record Column(string Header, string Path);

    public static Table Build(IReadOnlyList<JsonElement> rows, IReadOnlyList<Column> preferred)
    {
        var columns = preferred.Where(c => rows.Any(r => Find(r, c.Path) is not null)).ToList();
        if (columns.Count == 0)
        {
            columns = rows.SelectMany(r => r.ValueKind == JsonValueKind.Object ? r.EnumerateObject() : Enumerable.Empty<JsonProperty>())
                .Where(p => p.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
                .Select(p => p.Name).Distinct(StringComparer.Ordinal)
                .Select(name => new Column(Header(name), name)).ToList();
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(new Text(column.Header)));
        }

        foreach (var row in rows)
        {
            table.AddRow(columns.Select(c => new Text(Find(row, c.Path) is { } value ? Format(value) : "")).ToArray());
        }

        return table;
    }

    /// <summary>The value at a dotted path, or null when the row has no such property (or it is null).</summary>
    public static JsonElement? Find(JsonElement row, string path)
    {
        var current = row;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !TryGetProperty(current, part, out current))
            {
                return null;
            }
        }

        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    /// <summary>A cell's text: scalars as they are, arrays of scalars joined, objects as <c>key: value</c> pairs.</summary>
    public static string Format(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole.ToString(CultureInfo.InvariantCulture) : value.GetDouble().ToString("0.###", CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        JsonValueKind.Array => string.Join(value.EnumerateArray().All(e => e.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)) ? " " : ", ",
            value.EnumerateArray().Select(Format)),
        JsonValueKind.Object => string.Join(", ", value.EnumerateObject().Select(p => $"{p.Name}: {Format(p.Value)}")),
        _ => value.GetRawText(),
    };

    /// <summary>A property by name, ignoring case (servers may write <c>nodeId</c> or <c>NodeId</c>).</summary>
    public static bool TryGetProperty(JsonElement row, string name, out JsonElement value)
    {
        if (row.TryGetProperty(name, out value))
        {
            return true;
        }

        foreach (var property in row.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        return false;
    }

    /// <summary><c>submissionId</c> -> <c>SUBMISSION_ID</c>, the way <c>ray list</c> heads its columns.</summary>
    public static string Header(string name)
    {
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1]))
            {
                text.Append('_');
            }

            text.Append(char.ToUpperInvariant(name[i]));
        }

        return text.ToString();
    }
}
