using System.Text.Json;
using System.Text.Json.Serialization;

namespace RayOrleans.Autoscaler;

/// <summary>
/// Reads <see cref="AutoscalerOptions"/> from a JSON file (the head's <c>--autoscaler-config</c>):
/// <code>
/// { "provider": "LocalProcess", "idleTimeout": "00:01:00",
///   "nodeTypes": [ { "name": "cpu-2", "resources": { "CPU": 2 }, "minWorkers": 0, "maxWorkers": 3 } ] }
/// </code>
/// An unknown property is an error (a typo would otherwise leave a default in force silently).
/// </summary>
public static class AutoscalerConfigFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The options in <paramref name="path"/>, validated; throws <see cref="ArgumentException"/> naming the file and the problem.</summary>
    public static AutoscalerOptions Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot read '{path}': {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>The options in <paramref name="json"/>, validated.</summary>
    public static AutoscalerOptions Parse(string json, string source = "the autoscaler config")
    {
        AutoscalerOptions? options;
        try
        {
            options = JsonSerializer.Deserialize<AutoscalerOptions>(json, Json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{source} is not a valid autoscaler config: {e.Message}", e);
        }

        if (options is null)
        {
            throw new ArgumentException($"{source} is empty; expected an object with nodeTypes.");
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{source}: {e.Message}", e);
        }

        return options;
    }
}
