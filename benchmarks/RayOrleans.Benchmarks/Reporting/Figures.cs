using System.Globalization;

namespace RayOrleans.Benchmarks.Reporting;

/// <summary>How figures are written in the table and the page.</summary>
internal static class Figures
{
    public static string Rate(double value) => value switch
    {
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("N1", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    public static string Ratio(double? ratio) => ratio is { } r ? r.ToString(r >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture) : "-";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0} MiB",
        _ => $"{bytes / 1024.0:0} KiB",
    };

    public static string Number(double value) => Math.Abs(value) >= 100
        ? value.ToString("N0", CultureInfo.InvariantCulture)
        : value.ToString("0.###", CultureInfo.InvariantCulture);
}
