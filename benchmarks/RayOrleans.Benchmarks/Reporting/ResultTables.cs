using RayOrleans.Benchmarks.Measurement;
using RayOrleans.Benchmarks.Scenarios;

namespace RayOrleans.Benchmarks.Reporting;

/// <summary>The rows of the result tables, shared by the console and the Markdown page.</summary>
internal static class ResultTables
{
    public static readonly string[] MicroHeader =
        ["scenario", "size", "unit", "ours (mean ± sd)", "ours median", "raw Orleans (mean ± sd)", "ours/raw", "Ray full run", "Ray release", "ours/Ray"];

    public static readonly string[] EnvelopeHeader = ["scenario", "size", "seconds", "figures", "peak working set", "Ray"];

    public static string[] MicroRow(ScenarioResult r)
    {
        if (r.Status != "ok")
        {
            return [r.Name, r.Status, "", r.Reason ?? "", "", "", "", Full(r.Ray), Release(r.Ray), ""];
        }

        return
        [
            r.Name, r.Size ?? "", r.Unit ?? "", MeanSd(r.Ours), r.Ours is { } o ? Figures.Rate(o.Median) : "-",
            r.Baseline is null ? "n/a" : MeanSd(r.Baseline), Figures.Ratio(r.Ratio), Full(r.Ray), Release(r.Ray), Figures.Ratio(VersusRay(r)),
        ];
    }

    public static string[] EnvelopeRow(ScenarioResult r)
    {
        if (r.Status != "ok")
        {
            return [r.Name, r.Status, "", r.Reason ?? "", "", r.RayReference ?? ""];
        }

        var figures = string.Join(", ", (r.Figures ?? new Dictionary<string, double>()).Select(f => $"{f.Key} {FigureValue(f.Key, f.Value)}"));
        return [r.Name, r.Size ?? "", Figures.Number(r.Seconds ?? 0), figures, Figures.Bytes(r.PeakWorkingSetBytes), r.RayReference ?? ""];
    }

    /// <summary>Ours over Ray's newest labelled release (its stored full run where there is no release figure).</summary>
    public static double? VersusRay(ScenarioResult r) =>
        r.Ours is { } o && (r.Ray?.Release ?? r.Ray?.FullRun) is { } ray and > 0 ? o.Mean / ray : null;

    private static string FigureValue(string key, double value) =>
        key.EndsWith("bytes_per_actor", StringComparison.Ordinal) ? Figures.Bytes((long)value) : Figures.Number(value);

    private static string MeanSd(RateStats? s) => s is null ? "-" : $"{Figures.Rate(s.Mean)} ± {Figures.Rate(s.Sd)}";

    private static string Full(RayFigure? f) => f?.FullRun is { } v ? Figures.Rate(v) : "-";

    private static string Release(RayFigure? f) => f?.Release is { } v ? $"{Figures.Rate(v)} ({f.ReleaseVersion})" : "-";

    /// <summary>Lays rows out as aligned plain text.</summary>
    public static string Text(string[] header, IEnumerable<string[]> rows)
    {
        var all = new[] { header }.Concat(rows).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        var lines = all.Select(r => string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()).ToList();
        lines.Insert(1, string.Join("  ", widths.Select(w => new string('-', w))));
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Lays rows out as a Markdown table.</summary>
    public static string Markdown(string[] header, IEnumerable<string[]> rows)
    {
        static string Line(IEnumerable<string> cells) => "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "\\|"))) + " |";
        var lines = new List<string> { Line(header), Line(header.Select(_ => "---")) };
        lines.AddRange(rows.Select(Line));
        return string.Join("\n", lines);
    }
}
