using Orleans.Concurrency;

namespace RayOrleans.Benchmarks.Baseline;

/// <summary>
/// The raw-Orleans side of every scenario: a plain grain whose methods do what Ray's remote functions and
/// actor methods do (return the 2-byte value "ok", store or return one small value), with nothing of
/// RayOrleans on the path. Keys pick separate activations, so a scenario can spread calls as Ray does.
/// </summary>
public interface IBaselineGrain : IGrainWithIntegerKey
{
    /// <summary>Ray's <c>small_value</c>: returns <c>"ok"</c>. Calls to one activation run one at a time.</summary>
    Task<byte[]> SmallValue();

    /// <summary>Ray's <c>small_value_arg(x)</c>: takes one small argument, returns <c>"ok"</c>.</summary>
    Task<byte[]> SmallValueArg(int x);

    /// <summary><see cref="SmallValue"/> that interleaves with other calls (the concurrent and async actor patterns).</summary>
    [AlwaysInterleave]
    Task<byte[]> SmallValueInterleaved();

    /// <summary><see cref="SmallValueArg"/> that interleaves with other calls.</summary>
    [AlwaysInterleave]
    Task<byte[]> SmallValueArgInterleaved(int x);

    /// <summary>Stores one small value (the put patterns).</summary>
    [AlwaysInterleave]
    Task Put(int value);

    /// <summary>Returns the stored small value (the get pattern).</summary>
    [AlwaysInterleave]
    Task<int> Get();

    /// <summary><paramref name="size"/> bytes (one chunk of a large object moving between processes).</summary>
    [AlwaysInterleave]
    Task<byte[]> Bytes(int size);

    /// <summary>Builds the array of <paramref name="count"/> refs that <see cref="GetRefs"/> returns.</summary>
    Task MakeRefs(int count);

    /// <summary>An object holding many refs: what an ObjectRef carries (an id of a GUID and an index) for each.</summary>
    [AlwaysInterleave]
    Task<BaselineRef[]> GetRefs();
}

/// <summary>The client side of the multi-client and actor-to-actor patterns: a grain that calls other grains.</summary>
public interface IBaselineClientGrain : IGrainWithIntegerKey
{
    /// <summary><paramref name="count"/> sequential <see cref="IBaselineGrain.Put"/> calls, spread over <paramref name="keys"/> store grains from <paramref name="firstKey"/>.</summary>
    Task<int> PutSequential(long firstKey, int keys, int count);

    /// <summary>
    /// <paramref name="count"/> calls in flight at once, call i to grain <c>firstKey + i % keys</c>, then waits for
    /// all; <paramref name="withArg"/> passes one small argument.
    /// </summary>
    Task<int> CallSpread(long firstKey, int keys, int count, bool withArg);
}

/// <summary>What an ObjectRef carries on the wire: the producing task's id and the return index.</summary>
[GenerateSerializer, Immutable, Alias("RayOrleans.Benchmarks.BaselineRef")]
public readonly record struct BaselineRef([property: Id(0)] Guid TaskId, [property: Id(1)] int Index);
