using RayOrleans.Benchmarks.Workloads;

namespace RayOrleans.Benchmarks.Scenarios;

/// <summary>
/// Ray's <c>ray microbenchmark</c> (python/ray/_private/ray_perf.py), scenario by scenario, each with the
/// raw-Orleans call pattern that does the same work with plain grain calls (or memcpy for the gigabyte
/// puts). Ray's "clients" (tasks or actors that themselves call the API) are our tasks and actors calling
/// through <c>Ray.Current</c>, nested inside the node, as in Ray; the baseline's clients are grains that
/// call other grains.
/// </summary>
public static class MicroScenarios
{
    // Baseline grain keys: tasks spread over 1000 activations, as 1000 in-flight tasks spread over workers.
    private const long StoreKey = 0;
    private const long TaskFirst = 1;
    private const int TaskKeys = 1000;
    private const long ActorKey = 100_000;
    private const long ServerFirst = 200_000;
    private const long PutShardsFirst = 300_000;
    private const int PutShards = 32;
    private const long RefsKey = 400_000;

    /// <summary>Ray's 1:n and n:n tests use cpu_count/2 actors: 32 on its 64-vCPU machine. We use the same 32, not 1.</summary>
    private const int RayActors = 32;

    /// <summary>Ray counts "GB" as 0.8 per 100 Mi int64 (800 MiB).</summary>
    private const double GbPerElement = 0.8 / (100 * 1024 * 1024);

    private static RayFigure R(string metric, double? full, double? release, string? version) => new(metric, full, release, version);

    public static IReadOnlyList<MicroScenario> All { get; } =
    [
        new("single_client_get_calls", "gets/s", "get of a put(0) ref", "one call returning a stored int",
            R("single_client_get_calls_Plasma_Store", 10_620, 4_030, "2.51"), GetCalls),
        new("single_client_put_calls", "puts/s", "put(0)", "one call storing an int",
            R("single_client_put_calls_Plasma_Store", 5_173, 3_835, "2.57"), PutCalls),
        new("multi_client_put_calls", "puts/s", "10 tasks x 100 sequential puts (tasks call Ray.Current)", "10 client grains x 100 sequential store calls",
            R("multi_client_put_calls_Plasma_Store", 16_526, 9_659, "2.53"), MultiPutCalls),
        new("single_client_put_gigabytes", "GB/s", "put of a zeroed int64 array (Ray: 800 MiB), freed after", "memcpy of the same bytes",
            R("single_client_put_gigabytes", 19.9, 15.2, "2.58"), PutGigabytes),
        new("multi_client_put_gigabytes", "GB/s", "10 tasks x 10 puts of a zeroed int64 array (Ray: 80 MiB), freed after", "10 threads x 10 memcpy of the same bytes",
            R("multi_client_put_gigabytes", 38.1, 25.4, "2.57"), MultiPutGigabytes),
        new("single_client_tasks_and_get_batch", "batches/s", "submit 1000 small_value tasks, get all", "1000 calls in flight over 1000 grains, await all",
            R("single_client_tasks_and_get_batch", 5.8, 6.65, "2.58"), TasksAndGetBatch),
        new("single_client_get_object_containing_10k_refs", "gets/s", "get of one object holding 10,000 refs", "one call returning 10,000 (Guid, int) ids",
            R("single_client_get_object_containing_10k_refs", 13.4, 8.9, "2.58"), GetObjectContainingRefs),
        new("single_client_wait_1k_refs", "rounds/s", "1000 tasks, then 1000 waits for one more ready ref", "1000 calls in flight, then 1000 Task.WhenAny",
            R("single_client_wait_1k_refs", 5.1, 4.9, "2.58"), Wait1kRefs),
        new("single_client_tasks_sync", "tasks/s", "get(small_value.remote()), one at a time", "one call at a time",
            R("single_client_tasks_sync", 981, 805, "2.57"), TasksSync),
        new("single_client_tasks_async", "tasks/s", "1000 small_value tasks, one get", "1000 calls in flight over 1000 grains",
            R("single_client_tasks_async", 8_040, 7_175, "2.58"), TasksAsync),
        new("single_client_tasks_async_spread", "tasks/s", "1000 small_value tasks with SchedulingStrategy.Spread, one get (not one of Ray's; Ray's figure is its tasks_async)",
            "1000 calls in flight over 1000 grains (Orleans places them over the silos)",
            R("single_client_tasks_async", 8_040, 7_175, "2.58"),
            c => TaskBatch(c, unitsPerTask: true, new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread })),
        new("multi_client_tasks_async", "tasks/s", "4 actors each submit 10,000 tasks and get them (nested, Ray.Current)", "4 client grains x 10,000 calls in flight over 1000 grains",
            R("multi_client_tasks_async", 21_230, 18_575, "2.54"), MultiClientTasksAsync),
        new("1_1_actor_calls_sync", "calls/s", "one actor call + get, one at a time", "one call at a time to one grain",
            R("1_1_actor_calls_sync", 2_012, 1_763, "2.57"), ActorCallsSync),
        new("1_1_actor_calls_async", "calls/s", "1000 calls to one actor, one get", "1000 calls in flight to one grain",
            R("1_1_actor_calls_async", 8_664, 7_528, "2.54"), ActorCallsAsync),
        new("1_1_actor_calls_concurrent", "calls/s", "1000 calls to one actor with MaxConcurrency 16, one get", "1000 interleaving calls in flight to one grain",
            R("1_1_actor_calls_concurrent", 5_775, 5_198, "2.45"), ActorCallsConcurrent),
        new("1_n_actor_calls_async", "calls/s", "one client actor: 5000 calls to each of 32 actors, one get", "one client grain: 5000 calls to each of 32 grains in flight",
            R("1_n_actor_calls_async", 8_038, 6_838, "2.53"), OneToNActorCalls),
        new("n_n_actor_calls_async", "calls/s", "4 tasks x 5000 calls over 32 actors", "4 client grains x 5000 calls over 32 grains",
            R("n_n_actor_calls_async", 27_376, 23_168, "2.50"), NToNActorCalls),
        new("n_n_actor_calls_with_arg_async", "calls/s", "32 client actors, each passes one put ref to its own actor 1000 times", "32 client grains x 1000 calls with an int argument to their own grain",
            R("n_n_actor_calls_with_arg_async", 2_759, 3_009, "2.54"), NToNActorCallsWithArg),
        new("1_1_async_actor_calls_sync", "calls/s", "one async-actor call + get, one at a time", "one interleaving call at a time",
            R("1_1_async_actor_calls_sync", 1_460, null, null), AsyncActorCallsSync),
        new("1_1_async_actor_calls_async", "calls/s", "1000 calls to one async actor, one get", "1000 interleaving calls in flight to one grain",
            R("1_1_async_actor_calls_async", 4_260, null, null), AsyncActorCallsAsync),
        new("1_1_async_actor_calls_with_args_async", "calls/s", "1000 calls with an int argument to one async actor, one get", "1000 interleaving calls with an int argument in flight",
            R("1_1_async_actor_calls_with_args_async", 2_836, null, null), AsyncActorCallsWithArgs),
        new("cross_node_get_gigabytes", "GB/s", "a task on one node reads a 256 MiB array stored on another (not one of Ray's; --silos 2 or more)",
            "the same bytes as 8 MiB grain-call replies from a silo to the driver, 4 in flight, copied into one array",
            R("(none: Ray publishes no cross-node figure)", null, null, null), CrossNodeGetGigabytes),
        new("placement_group_create_removal", "groups/s", "create 100 one-bundle groups ({CPU: 0.001}), wait for each, remove each",
            "per group a fresh grain: a call that makes 2 inner calls (create: view + reserve), a call (wait), a call with 1 inner call (remove)",
            R("placement_group_create_removal", 765, 589, "2.54"), PlacementGroupCreateRemoval),
    ];

    public static IReadOnlyList<SkippedScenario> Skipped { get; } = [];

    // ------------------------------------------------------------------ placement groups

    private static long _nextGroupKey = 1_000_000;

    private static Task<Workload> PlacementGroupCreateRemoval(ScenarioContext c)
    {
        var ray = c.Ray;
        var count = c.Pick(100, 100, 3);
        var bundle = new Dictionary<string, double> { [Messages.ResourceSet.Cpu] = 0.001 };
        return Task.FromResult(new Workload
        {
            Size = $"{count} groups per call", UnitsPerCall = count,
            Ours = async () =>
            {
                var groups = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => ray.PlacementGroupAsync([bundle])));
                var ready = await Task.WhenAll(groups.Select(g => g.WaitAsync(TimeSpan.FromSeconds(30))));
                if (!ready.All(r => r))
                {
                    throw new InvalidOperationException("A placement group was not created within 30 s.");
                }

                await Task.WhenAll(groups.Select(ray.RemovePlacementGroupAsync));
            },
            Baseline = c.Baseline(async () =>
            {
                // Fresh activations each time, as each group is a new grain.
                var first = Interlocked.Add(ref _nextGroupKey, 2 * count) - 2 * count;
                var grains = Enumerable.Range(0, count).Select(i => c.Grains!.GetGrain<Baseline.IBaselineClientGrain>(first + 2 * i)).ToArray();
                await Task.WhenAll(grains.Select((g, i) => g.CallSpread(first + 2 * i + 1, 1, 2, false)));
                await Task.WhenAll(grains.Select((g, i) => g.CallSpread(first + 2 * i + 1, 1, 0, false)));
                await Task.WhenAll(grains.Select((g, i) => g.CallSpread(first + 2 * i + 1, 1, 1, false)));
            }),
        });
    }

    // ------------------------------------------------------------------ objects

    private static async Task<Workload> GetCalls(ScenarioContext c)
    {
        var ray = c.Ray;
        var value = await ray.PutAsync(0);
        if (c.Grains is not null)
        {
            await c.Grain(StoreKey).Put(0);
        }

        return new Workload
        {
            Size = "one ref", UnitsPerCall = 1,
            Ours = () => ray.GetAsync(value),
            Baseline = c.Baseline(() => c.Grain(StoreKey).Get()),
        };
    }

    private static Task<Workload> PutCalls(ScenarioContext c)
    {
        var ray = c.Ray;
        return Task.FromResult(new Workload
        {
            Size = "one put", UnitsPerCall = 1,
            Ours = () => ray.PutAsync(0),
            Baseline = c.Baseline(() => c.Grain(StoreKey).Put(0)),
        });
    }

    private static Task<Workload> MultiPutCalls(ScenarioContext c)
    {
        var ray = c.Ray;
        var (clients, puts) = c.Pick((10, 100), (10, 100), (2, 3));
        return Task.FromResult(new Workload
        {
            Size = $"{clients} tasks x {puts} puts", UnitsPerCall = clients * puts,
            Ours = () => ray.GetAsync(Enumerable.Range(0, clients).Select(_ => ray.Task(BenchTasks.PutSmall, puts).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, clients).Select(i => c.Client(i).PutSequential(PutShardsFirst, PutShards, puts)))),
        });
    }

    private static Task<Workload> PutGigabytes(ScenarioContext c)
    {
        var ray = c.Ray;
        var elements = c.Pick(100 * 1024 * 1024, 10 * 1024 * 1024, 64 * 1024);
        var source = ZeroArrays.Get(elements);
        var target = ZeroArrays.Touched(new long[elements]);
        return Task.FromResult(new Workload
        {
            Size = $"{elements * 8L / (1024 * 1024)} MiB per put", UnitsPerCall = elements * GbPerElement,
            Ours = async () => await ObjectFreeing.FreeAsync(ray, await ray.PutAsync(source)),
            Baseline = () =>
            {
                MemoryCopy(source, target);
                return Task.CompletedTask;
            },
            BaselineNote = "Buffer.MemoryCopy into a preallocated array",
            Cleanup = () =>
            {
                ZeroArrays.Clear();
                return Task.CompletedTask;
            },
        });
    }

    private static async Task<Workload> CrossNodeGetGigabytes(ScenarioContext c)
    {
        var ray = c.Ray;
        var nodes = (await ray.NodesAsync()).Select(n => n.NodeId).Order(StringComparer.Ordinal).ToArray();
        if (nodes.Length < 2)
        {
            return new Workload
            {
                Size = "-", UnitsPerCall = 0, Ours = () => Task.CompletedTask,
                NotApplicable = "needs two nodes: run it with --silos 2 (or --address of a cluster)",
            };
        }

        var elements = c.Pick(32 * 1024 * 1024, 8 * 1024 * 1024, 64 * 1024);
        var stored = ray.Task(BenchTasks.ZeroLongs, elements).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(nodes[0]) }).Remote();
        await stored.GetAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        var reader = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(nodes[1]) };
        var target = new byte[elements * 8L];
        target.AsSpan().Fill(1); // resident, so the baseline pays no first-touch page faults
        const int Chunk = 8 * 1024 * 1024;
        return new Workload
        {
            Size = $"{elements * 8L / (1024 * 1024)} MiB per read", UnitsPerCall = elements * GbPerElement,
            Ours = async () =>
            {
                await ray.Task(BenchTasks.LengthOf, stored).Options(reader).Remote().GetAsync();
                // The reader's node keeps the copy it pulled; drop it, so every read is a transfer.
                await ray.Runtime.Node(nodes[1]).FreeObjectsAsync([stored.Id]);
            },
            Baseline = c.Baseline(async () =>
            {
                // As the runtime pulls: chunks of at most 8 MiB, four in flight, each copied into place.
                using var inFlight = new SemaphoreSlim(4);
                await Task.WhenAll(Enumerable.Range(0, (int)((target.Length + Chunk - 1) / Chunk)).Select(async i =>
                {
                    await inFlight.WaitAsync();
                    try
                    {
                        var size = (int)Math.Min(Chunk, target.Length - (long)i * Chunk);
                        var part = await c.Grain(StoreKey).Bytes(size);
                        part.CopyTo(target.AsSpan(i * Chunk, size));
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }));
            }),
            Note = "The reader's node pulls the array from the storing node in 8 MiB chunks over Orleans into a copy in its own store when the silos run with " +
                   "--same-host-shm false (as --silos starts them), and maps the other node's segment when they share memory; either way the task deserializes " +
                   "into a fresh array. The copy is freed after each read, so every read is a transfer.",
            Cleanup = () =>
            {
                GC.KeepAlive(stored);
                ZeroArrays.Clear();
                return Task.CompletedTask;
            },
        };
    }

    private static Task<Workload> MultiPutGigabytes(ScenarioContext c)
    {
        var ray = c.Ray;
        var (clients, puts, elements) = c.Pick((10, 10, 10 * 1024 * 1024), (10, 10, 1024 * 1024), (2, 2, 64 * 1024));
        var source = ZeroArrays.Get(elements);
        var targets = Enumerable.Range(0, clients).Select(_ => ZeroArrays.Touched(new long[elements])).ToArray();
        return Task.FromResult(new Workload
        {
            Size = $"{clients} tasks x {puts} puts of {elements * 8L / (1024 * 1024.0):0.#} MiB", UnitsPerCall = clients * puts * elements * GbPerElement,
            Ours = () => ray.GetAsync(Enumerable.Range(0, clients).Select(_ => ray.Task(BenchTasks.PutLarge, puts, elements).Remote())),
            Baseline = () => Task.WhenAll(targets.Select(target => Task.Run(() =>
            {
                for (var i = 0; i < puts; i++)
                {
                    MemoryCopy(source, target);
                }
            }))),
            BaselineNote = "Buffer.MemoryCopy on thread-pool threads into preallocated arrays",
            Cleanup = () =>
            {
                ZeroArrays.Clear();
                return Task.CompletedTask;
            },
        });
    }

    private static async Task<Workload> GetObjectContainingRefs(ScenarioContext c)
    {
        var ray = c.Ray;
        var count = c.Pick(10_000, 10_000, 100);
        var holder = ray.Task(BenchTasks.CreateObjectContainingRefs, count).Remote();
        await holder;
        if (c.Grains is not null)
        {
            await c.Grain(RefsKey).MakeRefs(count);
        }

        return new Workload
        {
            Size = $"{count:N0} refs in the object", UnitsPerCall = 1,
            Ours = () => ray.GetAsync(holder),
            Baseline = c.Baseline(() => c.Grain(RefsKey).GetRefs()),
        };
    }

    // ------------------------------------------------------------------ tasks

    private static Task<Workload> TasksAndGetBatch(ScenarioContext c) => TaskBatch(c, unitsPerTask: false);

    private static Task<Workload> TasksAsync(ScenarioContext c) => TaskBatch(c, unitsPerTask: true);

    private static Task<Workload> TaskBatch(ScenarioContext c, bool unitsPerTask, TaskOptions? options = null)
    {
        var ray = c.Ray;
        var count = c.Pick(1000, 1000, 10);
        return Task.FromResult(new Workload
        {
            Size = $"{count} tasks per call", UnitsPerCall = unitsPerTask ? count : 1,
            Ours = options is null
                ? () => ray.GetAsync(Enumerable.Range(0, count).Select(_ => ray.Task(BenchTasks.SmallValue).Remote()))
                : () => ray.GetAsync(Enumerable.Range(0, count).Select(_ => ray.Task(BenchTasks.SmallValue).Options(options).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, count).Select(i => c.Grain(TaskFirst + i % TaskKeys).SmallValue()))),
        });
    }

    private static Task<Workload> Wait1kRefs(ScenarioContext c)
    {
        var ray = c.Ray;
        // Quick: 100, since one round of Ray's 1000 takes about 14 s here (each wait long-polls every remaining ref).
        var count = c.Pick(1000, 100, 10);
        return Task.FromResult(new Workload
        {
            Size = $"{count} refs, {count} waits", UnitsPerCall = 1,
            Ours = async () =>
            {
                IReadOnlyList<ObjectRef<byte[]>> notReady = Enumerable.Range(0, count).Select(_ => ray.Task(BenchTasks.SmallValue).Remote()).ToList();
                for (var i = 0; i < count; i++)
                {
                    notReady = (await ray.WaitAsync(notReady)).NotReady;
                }
            },
            Baseline = c.Baseline(async () =>
            {
                var pending = Enumerable.Range(0, count).Select(i => c.Grain(TaskFirst + i % TaskKeys).SmallValue()).ToList();
                for (var i = 0; i < count; i++)
                {
                    pending.Remove(await Task.WhenAny(pending));
                }
            }),
        });
    }

    private static Task<Workload> TasksSync(ScenarioContext c)
    {
        var ray = c.Ray;
        return Task.FromResult(new Workload
        {
            Size = "one task per call", UnitsPerCall = 1,
            Ours = () => ray.GetAsync(ray.Task(BenchTasks.SmallValue).Remote()),
            Baseline = c.Baseline(() => c.Grain(TaskFirst).SmallValue()),
        });
    }

    private static async Task<Workload> MultiClientTasksAsync(ScenarioContext c)
    {
        var ray = c.Ray;
        var (clients, count) = c.Pick((4, 10_000), (4, 1_000), (2, 10));
        var actors = await CreateActorsAsync(ray, clients, () => new BenchActor());
        return new Workload
        {
            Size = $"{clients} actors x {count:N0} tasks", UnitsPerCall = clients * count,
            Ours = () => ray.GetAsync(actors.Select(a => a.Task(x => x.SmallValueBatch(count)).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, clients).Select(i => c.Client(i).CallSpread(TaskFirst, TaskKeys, count, false)))),
            Cleanup = c.Kill(actors),
        };
    }

    // ------------------------------------------------------------------ actors

    private static async Task<Workload> ActorCallsSync(ScenarioContext c)
    {
        var ray = c.Ray;
        var actor = (await CreateActorsAsync(ray, 1, () => new BenchActor()))[0];
        return new Workload
        {
            Size = "one call per call", UnitsPerCall = 1,
            Ours = () => ray.GetAsync(actor.Task(a => a.SmallValue()).Remote()),
            Baseline = c.Baseline(() => c.Grain(ActorKey).SmallValue()),
            Cleanup = c.Kill([actor]),
        };
    }

    private static Task<Workload> ActorCallsAsync(ScenarioContext c) => OneActorBatch(c, concurrency: 1);

    private static Task<Workload> ActorCallsConcurrent(ScenarioContext c) => OneActorBatch(c, concurrency: 16);

    private static async Task<Workload> OneActorBatch(ScenarioContext c, int concurrency)
    {
        var ray = c.Ray;
        var count = c.Pick(1000, 1000, 10);
        var actor = (await CreateActorsAsync(ray, 1, () => new BenchActor(), new ActorOptions { MaxConcurrency = concurrency }))[0];
        var grain = concurrency == 1 ? c.Grains?.GetGrain<Baseline.IBaselineGrain>(ActorKey + 1) : c.Grains?.GetGrain<Baseline.IBaselineGrain>(ActorKey + 2);
        return new Workload
        {
            Size = $"{count} calls per call" + (concurrency > 1 ? $", MaxConcurrency {concurrency}" : ""), UnitsPerCall = count,
            Ours = () => ray.GetAsync(Enumerable.Range(0, count).Select(_ => actor.Task(a => a.SmallValue()).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, count).Select(_ => concurrency == 1 ? grain!.SmallValue() : grain!.SmallValueInterleaved()))),
            Cleanup = c.Kill([actor]),
        };
    }

    private static async Task<Workload> OneToNActorCalls(ScenarioContext c)
    {
        var ray = c.Ray;
        var (servers, count) = c.Pick((RayActors, 5000), (RayActors, 200), (2, 5));
        var actors = await CreateActorsAsync(ray, servers, () => new BenchActor());
        var client = await ray.Actor(() => new ClientActor(actors)).RemoteAsync();
        return new Workload
        {
            Size = $"1 client x {count:N0} calls to each of {servers} actors", UnitsPerCall = servers * count,
            Ours = () => ray.GetAsync(client.Task(x => x.SmallValueBatch(count)).Remote()),
            Baseline = c.Baseline(() => c.Client(0).CallSpread(ServerFirst, servers, servers * count, false)),
            Cleanup = async () =>
            {
                await c.Kill([client])();
                await c.Kill(actors)();
            },
        };
    }

    private static async Task<Workload> NToNActorCalls(ScenarioContext c)
    {
        var ray = c.Ray;
        var (clients, servers, count) = c.Pick((4, RayActors, 5000), (4, RayActors, 1000), (2, 2, 10));
        var actors = await CreateActorsAsync(ray, servers, () => new BenchActor());
        return new Workload
        {
            Size = $"{clients} tasks x {count:N0} calls over {servers} actors", UnitsPerCall = clients * count,
            Ours = () => ray.GetAsync(Enumerable.Range(0, clients).Select(_ => ray.Task(BenchTasks.CallActors, actors, count).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, clients).Select(i => c.Client(i).CallSpread(ServerFirst, servers, count, false)))),
            Cleanup = c.Kill(actors),
        };
    }

    private static async Task<Workload> NToNActorCallsWithArg(ScenarioContext c)
    {
        var ray = c.Ray;
        var (pairs, count) = c.Pick((RayActors, 1000), (RayActors, 200), (2, 5));
        var servers = await CreateActorsAsync(ray, pairs, () => new BenchActor());
        var clients = new ActorHandle<ClientActor>[pairs];
        for (var i = 0; i < pairs; i++)
        {
            var server = new[] { servers[i] };
            clients[i] = await ray.Actor(() => new ClientActor(server)).RemoteAsync();
        }

        return new Workload
        {
            Size = $"{pairs} pairs x {count:N0} calls", UnitsPerCall = pairs * count,
            Ours = () => ray.GetAsync(clients.Select(x => x.Task(a => a.SmallValueBatchArg(count)).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, pairs).Select(i => c.Client(i).CallSpread(ServerFirst + i, 1, count, true)))),
            Cleanup = async () =>
            {
                await c.Kill(clients)();
                await c.Kill(servers)();
            },
        };
    }

    // ------------------------------------------------------------------ async actors

    /// <summary>Ray's async actors run up to 1000 calls at once by default; ours get the same MaxConcurrency.</summary>
    private static readonly ActorOptions AsyncActorOptions = new() { MaxConcurrency = 1000 };

    private static async Task<Workload> AsyncActorCallsSync(ScenarioContext c)
    {
        var ray = c.Ray;
        var actor = (await CreateActorsAsync(ray, 1, () => new AsyncBenchActor(), AsyncActorOptions))[0];
        return new Workload
        {
            Size = "one call per call, MaxConcurrency 1000", UnitsPerCall = 1,
            Ours = () => ray.GetAsync(actor.Task(a => a.SmallValue()).Remote()),
            Baseline = c.Baseline(() => c.Grain(ActorKey + 3).SmallValueInterleaved()),
            Cleanup = c.Kill([actor]),
        };
    }

    private static async Task<Workload> AsyncActorCallsAsync(ScenarioContext c)
    {
        var ray = c.Ray;
        var count = c.Pick(1000, 1000, 10);
        var actor = (await CreateActorsAsync(ray, 1, () => new AsyncBenchActor(), AsyncActorOptions))[0];
        return new Workload
        {
            Size = $"{count} calls per call, MaxConcurrency 1000", UnitsPerCall = count,
            Ours = () => ray.GetAsync(Enumerable.Range(0, count).Select(_ => actor.Task(a => a.SmallValue()).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, count).Select(_ => c.Grain(ActorKey + 4).SmallValueInterleaved()))),
            Cleanup = c.Kill([actor]),
        };
    }

    private static async Task<Workload> AsyncActorCallsWithArgs(ScenarioContext c)
    {
        var ray = c.Ray;
        var count = c.Pick(1000, 1000, 10);
        var actor = (await CreateActorsAsync(ray, 1, () => new AsyncBenchActor(), AsyncActorOptions))[0];
        return new Workload
        {
            Size = $"{count} calls per call, MaxConcurrency 1000", UnitsPerCall = count,
            Ours = () => ray.GetAsync(Enumerable.Range(0, count).Select(i => actor.Task((a, x) => a.SmallValueWithArg(x), i).Remote())),
            Baseline = c.Baseline(() => Task.WhenAll(Enumerable.Range(0, count).Select(i => c.Grain(ActorKey + 5).SmallValueArgInterleaved(i)))),
            Cleanup = c.Kill([actor]),
        };
    }

    // ------------------------------------------------------------------ plumbing

    private static async Task<ActorHandle<T>[]> CreateActorsAsync<T>(Ray ray, int count, System.Linq.Expressions.Expression<Func<T>> constructor, ActorOptions? options = null)
        where T : class
    {
        var created = Enumerable.Range(0, count).Select(_ => ray.Actor(constructor).Options(options ?? new ActorOptions()).RemoteAsync());
        return await Task.WhenAll(created);
    }

    private static unsafe void MemoryCopy(long[] source, long[] target)
    {
        var bytes = (long)source.Length * sizeof(long);
        fixed (long* from = source)
        fixed (long* to = target)
        {
            Buffer.MemoryCopy(from, to, bytes, bytes);
        }
    }
}
