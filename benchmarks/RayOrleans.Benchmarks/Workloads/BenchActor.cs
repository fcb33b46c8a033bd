namespace RayOrleans.Benchmarks.Workloads;

/// <summary>Ray's <c>Actor</c> in ray_perf.py (declared with 0 CPUs there and here).</summary>
public sealed class BenchActor
{
    /// <summary>Returns <c>b"ok"</c>.</summary>
    public byte[] SmallValue() => BenchTasks.Ok;

    /// <summary>Takes one argument, returns <c>b"ok"</c>.</summary>
    public byte[] SmallValueArg(int x) => BenchTasks.Ok;

    /// <summary>Submits <paramref name="count"/> <c>small_value</c> tasks and gets them all (one "client" of multi_client_tasks_async).</summary>
    public async Task<int> SmallValueBatch(int count)
    {
        var ray = Ray.Current;
        var refs = new ObjectRef<byte[]>[count];
        for (var i = 0; i < count; i++)
        {
            refs[i] = ray.Task(BenchTasks.SmallValue).Remote();
        }

        await ray.GetAsync(refs).ConfigureAwait(false);
        return count;
    }
}

/// <summary>Ray's <c>AsyncActor</c>: async methods; created with MaxConcurrency 1000, Ray's default for an async actor.</summary>
public sealed class AsyncBenchActor
{
    /// <summary>Returns <c>b"ok"</c>.</summary>
    public Task<byte[]> SmallValue() => Task.FromResult(BenchTasks.Ok);

    /// <summary>Takes one argument, returns <c>b"ok"</c>.</summary>
    public Task<byte[]> SmallValueWithArg(int x) => Task.FromResult(BenchTasks.Ok);
}

/// <summary>Ray's <c>Client</c> actor: calls a list of server actors.</summary>
public sealed class ClientActor
{
    private readonly ActorHandle<BenchActor>[] _servers;

    /// <summary>A client of <paramref name="servers"/>.</summary>
    public ClientActor(ActorHandle<BenchActor>[] servers) => _servers = servers;

    /// <summary><paramref name="count"/> calls to each server, then one get of them all.</summary>
    public async Task<int> SmallValueBatch(int count)
    {
        var refs = new List<ObjectRef<byte[]>>(count * _servers.Length);
        foreach (var server in _servers)
        {
            for (var i = 0; i < count; i++)
            {
                refs.Add(server.Task(a => a.SmallValue()).Remote());
            }
        }

        await Ray.Current.GetAsync(refs).ConfigureAwait(false);
        return refs.Count;
    }

    /// <summary>Puts 0 once, then passes its ref to <paramref name="count"/> calls to each server, then one get of them all.</summary>
    public async Task<int> SmallValueBatchArg(int count)
    {
        var ray = Ray.Current;
        var x = await ray.PutAsync(0).ConfigureAwait(false);
        var refs = new List<ObjectRef<byte[]>>(count * _servers.Length);
        foreach (var server in _servers)
        {
            for (var i = 0; i < count; i++)
            {
                refs.Add(server.Task((a, v) => a.SmallValueArg(v), x).Remote());
            }
        }

        await ray.GetAsync(refs).ConfigureAwait(false);
        return refs.Count;
    }
}
