using System.Globalization;
using System.Text.Json;

namespace RayOrleans.Cli.Rendering;

/// <summary>Numbers as <c>ray status</c> prints them: bytes in binary units, resource amounts with one decimal.</summary>
internal static class Units
{
    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Bytes(double bytes)
    {
        var unit = 0;
        while (Math.Abs(bytes) >= 1024 && unit < ByteUnits.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes:0}B" : bytes.ToString("0.00", CultureInfo.InvariantCulture) + ByteUnits[unit];
    }

    public static string Amount(double amount) => amount.ToString("0.0##", CultureInfo.InvariantCulture);

    /// <summary>Whether a resource is counted in bytes (memory and object store), for the unit it is printed in.</summary>
    public static bool IsBytes(string resource) =>
        resource.Equals("memory", StringComparison.OrdinalIgnoreCase) || resource.Contains("object_store", StringComparison.OrdinalIgnoreCase);

    /// <summary>A resource amount in its unit.</summary>
    public static string Resource(string resource, double amount) => IsBytes(resource) ? Bytes(amount) : Amount(amount);

    /// <summary>The amounts of a serialized <c>ResourceSet</c> (<c>{"amounts": {"CPU": 2}}</c>) or of a plain object of amounts.</summary>
    public static Dictionary<string, double> Amounts(JsonElement? resourceSet)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (resourceSet is not { ValueKind: JsonValueKind.Object } set)
        {
            return result;
        }

        var amounts = JsonTable.TryGetProperty(set, "amounts", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner : set;
        foreach (var property in amounts.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                result[property.Name] = property.Value.GetDouble();
            }
        }

        return result;
    }

    /// <summary><c>{CPU: 1, GPU: 1}</c>, as Ray prints a demand's shape.</summary>
    public static string Shape(Dictionary<string, double> amounts) =>
        "{" + string.Join(", ", amounts.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}: {Resource(a.Key, a.Value)}")) + "}";
}
