using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.DependencyInjection;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Serialization;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// Code shipping (Ray's runtime_env working_dir): a driver's assemblies reach nodes that never saw them, each
/// job's code loads into a collectible context of its own, two builds of one assembly run side by side, and a
/// job's code is unloaded when idle.
/// </summary>
public sealed class JobCodeTests
{
    [Fact]
    public async Task A_driver_ships_its_assemblies_to_silo_processes_that_never_saw_them()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2, codeDirectory: false);
        var lines = new System.Collections.Concurrent.ConcurrentQueue<LogLine>();
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, JobId = "shipper", OnTaskLog = lines.Enqueue });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");

        var contexts = await ray.GetAsync(Enumerable.Range(0, 8).Select(i => ray.Task(TestTasks.LoadContextName, i).Remote()), Wait.Deadline);
        Assert.All(contexts, c => Assert.StartsWith("job shipper ", c));

        var counter = ray.Actor(() => new Counter(1)).Remote();
        Assert.Equal(3, await counter.Task(c => c.Add(2)).Remote().GetAsync(Wait.Deadline));
        Assert.StartsWith("job shipper ", await counter.Task(c => c.LoadContextName()).Remote().GetAsync(Wait.Deadline));
        Assert.StartsWith("job shipper ", await counter.Task(c => c.NestedLoadContextName()).Remote().GetAsync(Wait.Deadline));

        // What the shipped code prints in the silo processes comes back to this driver.
        Assert.Equal(4, await ray.Task(TestTasks.Shout, "ship").Remote().GetAsync(Wait.Deadline));
        await Wait.UntilAsync(() => lines.Any(l => l is { Text: "out:ship", Source: "TestTasks.Shout" }) && lines.Any(l => l is { Text: "err:ship", IsError: true }),
            "the silo processes' task output reaches the driver");
        Assert.Contains(lines.First(l => l.Text == "out:ship").NodeId, cluster.Silos.Select(s => s.NodeId));
        using (var http = new HttpClient())
        {
            var kept = await http.GetStringAsync($"http://127.0.0.1:{cluster.HttpPorts[1]}/api/logs?jobId=shipper");
            Assert.Contains("out:ship", kept);
            Assert.Contains("(TestTasks.Shout pid=", kept);
        }

        // A driver that ships nothing to these silos gets an error naming the missing type, not a hang.
        await using var bare = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false });
        var error = await Assert.ThrowsAnyAsync<RayException>(() => bare.Task(TestTasks.LoadContextName, 0).Remote().GetAsync(Wait.Deadline));
        Assert.Contains("TestTasks", error.Message);
        Assert.Contains("ship", error.Message);
    }

    [Fact]
    public async Task A_detached_actor_restarted_after_its_shipping_driver_exited_runs_its_code_on_a_node_that_never_unpacked_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 3, cpusPerSilo: 2, codeDirectory: false);
        var job = "kept-code-" + Probe.NewKey()[..8];
        var name = job + "-actor";
        string victim;
        string hash;
        await using (var driver = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, JobId = job }))
        {
            await Wait.UntilAsync(async () => (await driver.NodesAsync()).Count == 3, "the three silo processes report");
            var package = driver.Runtime.Code!;
            hash = package.Hash;
            // The actor lives on a node that holds neither the package's bytes nor its directory record (those are
            // not at stake here: the directory and a put's only copy die with their node).
            var record = (await driver.Runtime.Directory(package.Object.TaskId).DescribeAsync(package.Object))!;
            victim = cluster.Silos.Select(s => s.NodeId).First(n => n != record.Location && n != record.Shard);
            var actor = await driver.Actor(() => new Counter(5)).Options(new ActorOptions
            {
                Name = name, Lifetime = ActorLifetime.Detached, MaxRestarts = 1,
                SchedulingStrategy = SchedulingStrategy.NodeAffinity(victim, soft: true),
            }).RemoteAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(victim, await actor.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
            Assert.StartsWith($"job {job} ", await actor.Task(c => c.LoadContextName()).Remote().GetAsync(Wait.Deadline));
        } // the driver that shipped the code exits: only the actor's hold keeps the package

        var index = cluster.Silos.FindIndex(s => s.NodeId == victim);
        var unpacked = cluster.Silos.Select((s, i) => (s.NodeId, Folder: Path.Combine(cluster.JobsDirectory, "code-" + cluster.HttpPorts[i], hash))).ToList();
        Assert.Equal([victim], unpacked.Where(u => Directory.Exists(u.Folder)).Select(u => u.NodeId));
        cluster.Kill(index);

        // No driver is connected: the cluster restarts the actor on a node that never had the code.
        using var http = new HttpClient();
        var port = cluster.HttpPorts[index == 0 ? 1 : 0];
        string? restartedOn = null;
        await Wait.UntilAsync(async () =>
        {
            using var answer = await http.GetAsync($"http://127.0.0.1:{port}/api/actors?name={name}&state=alive");
            if (!answer.IsSuccessStatusCode)
            {
                return false; // the listing asks every node, and the dead one is not declared dead yet
            }

            var rows = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
            restartedOn = rows.Count == 1 && rows[0].GetProperty("restarts").GetInt32() == 1 ? rows[0].GetProperty("nodeId").GetString() : null;
            return restartedOn is not null;
        }, "the detached actor is restarted with its driver gone", TimeSpan.FromMinutes(1));
        Assert.NotEqual(victim, restartedOn);
        Assert.True(Directory.Exists(unpacked.Single(u => u.NodeId == restartedOn).Folder), "the restarted actor's node unpacked the package itself");

        // A driver that ships nothing finds it by name, and it runs in its job's shipped code there.
        await using var later = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false });
        var found = await later.GetActorAsync<Counter>(name);
        Assert.Equal(restartedOn, await found.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));
        Assert.StartsWith($"job {job} ", await found.Task(c => c.LoadContextName()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(7, await found.Task(c => c.Add(2)).Remote().GetAsync(Wait.Deadline));
    }

    [Fact]
    public async Task A_restarted_actor_whose_code_packages_only_stored_copy_died_reads_it_from_a_node_that_kept_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 3, cpusPerSilo: 2, codeDirectory: false);
        var job = "peer-code-" + Probe.NewKey()[..8];
        var name = job + "-actor";
        string holder, keeper;
        string hash;
        await using (var driver = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, JobId = job }))
        {
            await Wait.UntilAsync(async () => (await driver.NodesAsync()).Count == 3, "the three silo processes report");
            var package = driver.Runtime.Code!;
            hash = package.Hash;
            // The actor lives where the package's only stored copy is, so one death takes both.
            holder = (await driver.Runtime.Directory(package.Object.TaskId).DescribeAsync(package.Object))!.Location!;
            var actor = await driver.Actor(() => new Counter(5)).Options(new ActorOptions
            {
                Name = name, Lifetime = ActorLifetime.Detached, MaxRestarts = 1,
                SchedulingStrategy = SchedulingStrategy.NodeAffinity(holder, soft: true),
            }).RemoteAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(holder, await actor.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline));

            // The supervisor's node runs a task of the job, so it unpacks the package and keeps its bytes; the
            // restart avoids that node, so it lands on the third, which never had the code.
            keeper = (await driver.Runtime.Grains.GetGrain<Grains.IActorSupervisorGrain>(actor.Id.Value).StatusAsync()).SupervisorNode!;
            Assert.NotEqual(holder, keeper);
            var onKeeper = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(keeper, soft: false) };
            Assert.StartsWith($"job {job} ", await driver.Task(TestTasks.LoadContextName, 0).Options(onKeeper).Remote().GetAsync(Wait.Deadline));
        } // the driver exits: its copy of the package goes with it

        var folders = cluster.Silos.Select((s, i) => (s.NodeId, Folder: Path.Combine(cluster.JobsDirectory, "code-" + cluster.HttpPorts[i], hash))).ToList();
        var third = cluster.Silos.Select(s => s.NodeId).Single(n => n != holder && n != keeper);
        Assert.False(Directory.Exists(folders.Single(f => f.NodeId == third).Folder));
        Assert.True(File.Exists(folders.Single(f => f.NodeId == keeper).Folder + ".zip"), "the keeper kept the package's bytes");
        cluster.Kill(cluster.Silos.FindIndex(s => s.NodeId == holder));

        // Restarted on the third node, which read the package from the keeper (the store's only copy died).
        using var http = new HttpClient();
        var port = cluster.HttpPorts[cluster.Silos.FindIndex(s => s.NodeId == keeper)];
        await Wait.UntilAsync(async () =>
        {
            using var answer = await http.GetAsync($"http://127.0.0.1:{port}/api/actors?name={name}&state=alive");
            return answer.IsSuccessStatusCode && System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement
                .EnumerateArray().Any(r => r.GetProperty("restarts").GetInt32() == 1 && r.GetProperty("nodeId").GetString() == third);
        }, "the actor is restarted on the node that never had the code", TimeSpan.FromMinutes(1));
        Assert.True(Directory.Exists(folders.Single(f => f.NodeId == third).Folder));

        await using var later = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId, ShipCode = false });
        var found = await later.GetActorAsync<Counter>(name);
        Assert.StartsWith($"job {job} ", await found.Task(c => c.LoadContextName()).Remote().GetAsync(Wait.Deadline));
        Assert.Equal(7, await found.Task(c => c.Add(2)).Remote().GetAsync(Wait.Deadline));
    }

    [Fact]
    public async Task A_node_serves_kept_package_bytes_only_by_package_hash()
    {
        var root = Directory.CreateTempSubdirectory("rayorleans-kept-").FullName;
        try
        {
            await using var code = new JobCode(root, TimeSpan.FromMinutes(1), () => null!, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            var hash = new string('a', 64);
            await File.WriteAllBytesAsync(Path.Combine(root, hash + ".zip"), Enumerable.Range(0, 10).Select(i => (byte)i).ToArray());
            File.WriteAllText(Path.Combine(root, "secret.zip"), "not a package");

            Assert.Equal(10, code.KeptSize(hash));
            Assert.Equal(new byte[] { 4, 5, 6 }, await code.ReadKeptAsync(hash, 4, 3));
            Assert.Equal(new byte[] { 8, 9 }, await code.ReadKeptAsync(hash, 8, 100));
            Assert.Empty((await code.ReadKeptAsync(hash, 20, 3))!);
            Assert.Equal(-1, code.KeptSize(new string('b', 64)));
            // Names that are not SHA-256 hashes are paths here: never opened.
            Assert.Equal(-1, code.KeptSize("secret"));
            Assert.Equal(-1, code.KeptSize("../" + Path.GetFileName(root) + "/secret"));
            Assert.Null(await code.ReadKeptAsync("secret", 0, 3));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => code.ReadKeptAsync(hash, -1, 3));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Two_jobs_run_two_builds_of_one_assembly_side_by_side_and_a_jobs_code_is_unloaded_when_it_ends()
    {
        await using var cluster = await FreshCluster.StartAsync();
        await using var ray = await FreshCluster.AttachAsync(cluster);
        var first = await ray.PutCodeAsync(Build("one"));
        var second = await ray.PutCodeAsync(Build("two"));
        Assert.NotEqual(first.Hash, second.Hash);

        var refs = Enumerable.Range(0, 6).Select(i => Submit<string>(ray, i % 2 == 0 ? first : second, i % 2 == 0 ? "job-one" : "job-two", i)).ToList();
        var answers = await ray.GetAsync(refs, Wait.Deadline);
        Assert.Equal(["one:0", "two:1", "one:2", "two:3", "one:4", "two:5"], answers);

        // A job's own record type, as a result: serialized on the node with the job's own JSON metadata.
        var records = await Submit<System.Text.Json.JsonElement>(ray, first, "job-one", 9, "Answers").GetAsync(Wait.Deadline);
        Assert.Equal(2, records.GetArrayLength());
        Assert.Equal("one", records[0].GetProperty("Label").GetString());
        Assert.Equal(10, records[1].GetProperty("Value").GetInt32());

        var schedulers = cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<LocalScheduler>()).ToList();
        var loaded = schedulers.SelectMany(s => s.Code.Loaded).ToList();
        Assert.Contains(loaded, c => c.JobId == "job-one");
        Assert.Contains(loaded, c => c.JobId == "job-two");
        var weak = WeakContexts(loaded.Where(c => c.JobId == "job-one").ToList());
        loaded.Clear();

        // Job one ends: its code is unloaded on every node and, once nothing refers to it, collected; job two's stays.
        foreach (var silo in cluster.Silos)
        {
            await ray.Runtime.Node(silo.SiloAddress.ToParsableString()).JobEndedAsync("job-one");
        }

        await Wait.UntilAsync(() => schedulers.All(s => s.Code.Loaded.All(c => c.JobId != "job-one")), "job one's contexts are unloaded");
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return weak.All(w => !w.IsAlive);
        }, "the unloaded contexts are collected");
        Assert.Contains(schedulers.SelectMany(s => s.Code.Loaded), c => c.JobId == "job-two");
        Assert.Equal("two:8", await Submit<string>(ray, second, "job-two", 8).GetAsync(Wait.Deadline));

        // A later task of the ended job loads its code again.
        Assert.Equal("one:7", await Submit<string>(ray, first, "job-one", 7).GetAsync(Wait.Deadline));
    }

    [Fact]
    public void A_job_context_unloads_only_when_unused_and_idle_or_its_job_ended()
    {
        var context = new JobLoadContext("j", new string('a', 64), Path.GetTempPath());
        Assert.True(context.TryAcquire());
        Assert.False(context.TryUnload(long.MaxValue)); // in use
        context.Release();
        Assert.False(context.TryUnload(Environment.TickCount64 - 60_000)); // used within the last minute
        Assert.True(context.TryUnload(long.MaxValue));
        Assert.False(context.TryAcquire()); // unloading: the next task loads a fresh one
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> WeakContexts(List<JobLoadContext> contexts) => contexts.Select(c => new WeakReference(c)).ToList();

    /// <summary>Submits <c>VersionedLib.Api.Which(i)</c> (or another method of it) from the given package as a task of <paramref name="job"/>.</summary>
    private static ObjectRef<T> Submit<T>(Ray ray, CodePackage code, string job, int i, string method = "Which")
    {
        var spec = new TaskSpec
        {
            TaskId = UniqueIds.Next(),
            Function = $"M|VersionedLib.Api, VersionedLib, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null|{method}||{typeof(int).AssemblyQualifiedName}",
            Name = "Api.Which", Args = [new TaskArg { Value = ObjectSerializer.Instance.Serialize(i, typeof(int)) }],
            Resources = new ResourceSet(new Dictionary<string, double> { [ResourceSet.Cpu] = 1 }), JobId = job, Code = code,
        };
        ray.Runtime.SubmitTask(spec);
        return new ObjectRef<T>(new ObjectId(spec.TaskId, 1), ray.Runtime);
    }

    /// <summary>Compiles one build of "VersionedLib" 1.0.0.0 whose <c>Api.Which</c> answers with <paramref name="label"/>, in a folder of its own.</summary>
    private static string Build(string label)
    {
        var source = $$"""
            [assembly: System.Reflection.AssemblyVersion("1.0.0.0")]
            namespace VersionedLib;
            public sealed record Answer(string Label, int Value);
            public static class Api
            {
                public static string Which(int i) => "{{label}}:" + i;
                public static Answer[] Answers(int i) => [new Answer("{{label}}", i), new Answer("{{label}}", i + 1)];
            }
            """;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is "System.Runtime.dll" or "System.Private.CoreLib.dll")
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("VersionedLib", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, deterministic: true));
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rayorleans-versioned-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var emitted = compilation.Emit(Path.Combine(folder, "VersionedLib.dll"));
        Assert.True(emitted.Success, string.Join("; ", emitted.Diagnostics));
        return folder;
    }
}
