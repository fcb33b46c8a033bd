namespace RayOrleans;

/// <summary>
/// Fresh 128-bit ids for tasks, calls and puts without a system call each. <see cref="Guid.NewGuid"/> reads
/// the kernel's random source on every call (about 0.4 us here, a tenth of a whole local task); these ids take
/// 64 random bits once per process and count the other 64, scrambled through a bijection so that the ids
/// still spread over directory shards and hash tables. Unique within a process by construction; across
/// processes as long as two processes do not draw the same 64-bit prefix (1 in 2^64 per pair). Not secret:
/// never use them as tokens.
/// </summary>
internal static class UniqueIds
{
    private static readonly ulong Prefix = RandomPrefix();
    private static long _counter;

    /// <summary>A fresh id, unique in the cluster.</summary>
    public static Guid Next()
    {
        var n = (ulong)Interlocked.Increment(ref _counter);
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, Mix(n));
        BitConverter.TryWriteBytes(bytes[8..], Prefix);
        return new Guid(bytes);
    }

    private static ulong RandomPrefix()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes);
        return BitConverter.ToUInt64(bytes[8..]) ^ BitConverter.ToUInt64(bytes);
    }

    /// <summary>SplitMix64's finaliser: a bijection on 64 bits, so distinct counters give distinct ids.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
