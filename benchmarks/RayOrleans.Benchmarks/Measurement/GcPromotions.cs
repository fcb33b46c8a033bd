using System.Diagnostics.Tracing;

namespace RayOrleans.Benchmarks.Measurement;

/// <summary>
/// Bytes the GC promoted out of gen0 and out of gen1 since the process started, from the runtime's GCHeapStats
/// event (one per collection). What survives a young collection is what makes it slow (it is copied), so this
/// says why a side's collections cost what they do; it barely depends on how busy the shared machine is.
/// </summary>
public sealed class GcPromotions : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int GcHeapStatsEventId = 4;

    private long _fromGen0;
    private long _fromGen1;

    /// <summary>The listener of this process, started on first use.</summary>
    public static GcPromotions Instance { get; } = new();

    /// <summary>Bytes promoted out of gen0 so far.</summary>
    public long FromGen0 => Interlocked.Read(ref _fromGen0);

    /// <summary>Bytes promoted out of gen1 so far.</summary>
    public long FromGen1 => Interlocked.Read(ref _fromGen1);

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId != GcHeapStatsEventId || e.Payload is not { } payload || e.PayloadNames is not { } names)
        {
            return;
        }

        Interlocked.Add(ref _fromGen0, Read(names, payload, "TotalPromotedSize0"));
        Interlocked.Add(ref _fromGen1, Read(names, payload, "TotalPromotedSize1"));
    }

    private static long Read(IList<string> names, IList<object?> payload, string name) =>
        names.IndexOf(name) is >= 0 and var i ? Convert.ToInt64(payload[i]) : 0;
}
