using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace RayOrleans.Benchmarks.Measurement;

/// <summary>
/// Which types the process allocates, from the runtime's own sampling (<c>--allocations</c>): the GC raises an
/// AllocationTick event about every 100 KB allocated on a thread, naming the type of the object that crossed the
/// mark, so counting the ticks per type estimates each type's share of the bytes. It listens in-process (no
/// dotnet-trace session, no file), which is what makes it cheap enough to leave on for a whole scenario.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEventId = 10;

    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    /// <summary>Starts counting (the listener is enabled from construction; ticks before this are ignored).</summary>
    public void Start()
    {
        _bytes.Clear();
        _recording = true;
    }

    /// <summary>Stops counting and returns the top types by estimated bytes, with their share of all sampled bytes.</summary>
    public IReadOnlyList<(string Type, double Share)> Stop(int top)
    {
        _recording = false;
        var total = Math.Max(1, _bytes.Values.Sum());
        return _bytes.OrderByDescending(p => p.Value).Take(top).Select(p => (p.Key, (double)p.Value / total)).ToList();
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventId != AllocationTickEventId || e.Payload is not { } payload || e.PayloadNames is not { } names)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is >= 0 and var t ? payload[t] as string ?? "?" : "?";
        // AllocationAmount64 is the bytes since the previous tick on this heap (about 100 KB), so summing it per
        // type weights each sample by what it stands for.
        var amount = names.IndexOf("AllocationAmount64") is >= 0 and var a ? Convert.ToInt64(payload[a]) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}
