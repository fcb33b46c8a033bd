namespace RayOrleans.Benchmarks.Baseline;

/// <summary>The raw-Orleans counterpart of a Ray worker or actor: trivial methods, default placement.</summary>
internal sealed class BaselineGrain : Grain, IBaselineGrain
{
    private static readonly byte[] Ok = "ok"u8.ToArray();

    private int _value;
    private BaselineRef[] _refs = [];

    public Task<byte[]> SmallValue() => Task.FromResult(Ok);

    public Task<byte[]> SmallValueArg(int x) => Task.FromResult(Ok);

    public Task<byte[]> SmallValueInterleaved() => Task.FromResult(Ok);

    public Task<byte[]> SmallValueArgInterleaved(int x) => Task.FromResult(Ok);

    public Task Put(int value)
    {
        _value = value;
        return Task.CompletedTask;
    }

    public Task<int> Get() => Task.FromResult(_value);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte[]> Chunks = new();

    public Task<byte[]> Bytes(int size) => Task.FromResult(Chunks.GetOrAdd(size, n => new byte[n]));

    public Task MakeRefs(int count)
    {
        var task = Guid.NewGuid();
        _refs = Enumerable.Range(0, count).Select(i => new BaselineRef(task, i + 1)).ToArray();
        return Task.CompletedTask;
    }

    public Task<BaselineRef[]> GetRefs() => Task.FromResult(_refs);
}

/// <summary>A grain that calls other grains: the raw-Orleans counterpart of a Ray client actor or driver task.</summary>
internal sealed class BaselineClientGrain : Grain, IBaselineClientGrain
{
    public async Task<int> PutSequential(long firstKey, int keys, int count)
    {
        var grains = References(firstKey, keys);
        for (var i = 0; i < count; i++)
        {
            await grains[i % keys].Put(0);
        }

        return count;
    }

    public async Task<int> CallSpread(long firstKey, int keys, int count, bool withArg)
    {
        var grains = References(firstKey, keys);
        var calls = new Task<byte[]>[count];
        for (var i = 0; i < count; i++)
        {
            var grain = grains[i % keys];
            calls[i] = withArg ? grain.SmallValueArg(0) : grain.SmallValue();
        }

        await Task.WhenAll(calls);
        return count;
    }

    /// <summary>The references to the grains called, made once per call of this grain (GetGrain costs about as much as a call).</summary>
    private IBaselineGrain[] References(long firstKey, int keys) =>
        Enumerable.Range(0, keys).Select(k => GrainFactory.GetGrain<IBaselineGrain>(firstKey + k)).ToArray();
}
