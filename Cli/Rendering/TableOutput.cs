using Spectre.Console;
using Spectre.Console.Rendering;

namespace RayOrleans.Cli.Rendering;

/// <summary>Writes tables unwrapped, as <c>ray list</c> and kubectl do.</summary>
internal static class TableOutput
{
    /// <summary>
    /// Spectre fits a table to the console's width by wrapping every cell (an 80-column terminal turns a
    /// node id into five lines, a pipe is taken as 80 columns); ids are copied from these tables, so rows
    /// stay whole and a narrow terminal wraps the long line itself.
    /// </summary>
    public static void Write(IRenderable table)
    {
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 1000);
        AnsiConsole.Write(table);
    }
}
