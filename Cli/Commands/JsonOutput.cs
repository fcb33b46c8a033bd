using System.Text.Json;

namespace RayOrleans.Cli.Commands;

/// <summary>What <c>--json</c> prints: the API's JSON, one document on stdout, nothing else.</summary>
internal static class JsonOutput
{
    public static int Print(JsonElement document)
    {
        Console.Out.WriteLine(document.GetRawText());
        return ExitCodes.Success;
    }
}
