using System.Diagnostics;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;
using Xunit.Abstractions;

namespace RayOrleans.Tests;

/// <summary>
/// The fault-tolerance proof: real silo processes on Redis, one killed with SIGKILL under load and a new one
/// started, while a driver runs retryable tasks and restartable actors. Bounded in time; reports recovery.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int TaskCount = 10_000;
    private const int ActorCount = 20;
    private const int CallsPerActor = 40;

    [Fact]
    public async Task A_Redis_restart_does_not_stop_running_work_and_a_silo_joins_afterwards()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2, persistRedis: true);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silo processes report");
        var counter = ray.Actor(() => new Counter()).Remote();

        // Work runs in rounds of ten tasks and an actor call, all through the outage.
        var done = 0;
        using var stop = new CancellationTokenSource();
        var work = Task.Run(async () =>
        {
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var squares = await ray.GetAsync(Enumerable.Range(0, 10).Select(i => ray.Task(TestTasks.SquareSlowly, round + i).Remote()), Wait.Deadline);
                Assert.Equal(Enumerable.Range(0, 10).Select(i => (round + i) * (round + i)), squares);
                Assert.Equal(2 * round, await counter.Task(c => c.TwiceSlowly(round)).Remote().GetAsync(Wait.Deadline));
                Interlocked.Add(ref done, 10);
            }
        });

        await Wait.UntilAsync(() => Volatile.Read(ref done) >= 20, "work runs");
        await cluster.KillRedisAsync();
        var atKill = Volatile.Read(ref done);
        await Wait.UntilAsync(() => Volatile.Read(ref done) >= atKill + 50, "tasks keep completing while Redis is down");
        await cluster.StartRedisAsync();

        // A silo joins through the restarted Redis, and takes work.
        await cluster.StartSiloAsync(cpus: 1);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 3, "the new silo joins after the restart", TimeSpan.FromMinutes(1));
        var newcomer = cluster.Silos[2].NodeId;
        var pinned = new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(newcomer) };
        Assert.Equal(newcomer, await ray.Task(TestTasks.WhereAmI, 0).Options(pinned).Remote().GetAsync(Wait.Deadline));

        var beforeStop = Volatile.Read(ref done);
        await Wait.UntilAsync(() => Volatile.Read(ref done) >= beforeStop + 20, "work goes on after the restart");
        stop.Cancel();
        await work.WaitAsync(Wait.Deadline);
        output.WriteLine($"{atKill} tasks before Redis was killed, {Volatile.Read(ref done)} in all");
    }

    [Fact]
    public async Task A_silo_killed_under_load_loses_no_task_result_and_actors_restart_or_fail_clearly()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 3, cpusPerSilo: 2);
        await using var ray = await Ray.InitAsync(cluster.Address, new RayInitOptions { ClusterId = cluster.ClusterId });
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 3, "three silo processes report");

        // Half the actors may restart (and retry their calls); the other half die for good with their node.
        var spread = SchedulingStrategy.Spread;
        var actors = Enumerable.Range(0, ActorCount).Select(i => (
            Restartable: i % 2 == 0,
            Handle: ray.Actor(() => new Counter()).Options(i % 2 == 0
                ? new ActorOptions { MaxRestarts = 2, MaxTaskRetries = 3, SchedulingStrategy = spread }
                : new ActorOptions { MaxRestarts = 0, SchedulingStrategy = spread }).Remote())).ToList();
        var homes = await ray.GetAsync(actors.Select(a => a.Handle.Task(c => c.Node()).Remote()), Wait.Deadline);
        var victim = 1;
        var victimNode = cluster.Silos[victim].NodeId;
        Assert.Contains(victimNode, homes); // Spread put some actors on every node, the victim's too

        // Tasks go out in waves while the kill happens; every one may be retried (MaxRetries 3, the default).
        var retryable = new TaskOptions { MaxRetries = 3 };
        var refs = new ObjectRef<int>[TaskCount];
        var submitted = 0;
        var submitting = Task.Run(async () =>
        {
            for (var i = 0; i < TaskCount; i++)
            {
                refs[i] = ray.Task(TestTasks.SquareSlowly, i).Options(retryable).Remote();
                Volatile.Write(ref submitted, i + 1);
                if (i % 500 == 499)
                {
                    await Task.Delay(50); // waves, so some are still to come after the kill
                }
            }
        });

        // Each actor is called over and over across the kill: every call returns the right answer, or (for
        // an actor without restarts whose node died) fails with ActorDiedException; nothing waits for ever.
        var calls = actors.Select((a, n) => Task.Run(async () =>
        {
            var outcomes = new List<string>();
            for (var k = 0; k < CallsPerActor; k++)
            {
                try
                {
                    var twice = await a.Handle.Task(c => c.TwiceSlowly(k)).Remote().GetAsync(TimeSpan.FromMinutes(2));
                    Assert.Equal(2 * k, twice);
                    outcomes.Add("ok");
                }
                catch (ActorDiedException e)
                {
                    Assert.False(a.Restartable, $"actor {n} (MaxRestarts 2) died: {e.Message}");
                    Assert.True(victimNode == homes[n], $"actor {n} on a live node died: {e.Message}");
                    outcomes.Add("died");
                }

                await Task.Delay(20);
            }

            return outcomes;
        })).ToList();

        await Wait.UntilAsync(() => Volatile.Read(ref submitted) >= TaskCount / 3, "a third of the tasks are submitted");
        var clock = Stopwatch.StartNew();
        var atRisk = Volatile.Read(ref submitted); // submitted before the kill: some queued or running on the victim
        cluster.Kill(victim);
        var recovered = Task.Run(async () =>
        {
            await ray.GetAsync(refs.Take(atRisk), TimeSpan.FromMinutes(3));
            return clock.Elapsed;
        });
        var management = ray.Runtime.Grains.GetGrain<IManagementGrain>(0);
        await Wait.UntilAsync(async () => await VictimDeadAsync(), "membership declares the killed node dead", TimeSpan.FromMinutes(1));
        var declaredDead = clock.Elapsed;

        async Task<bool> VictimDeadAsync()
        {
            try
            {
                // The management grain may itself be on the dead silo until it is declared dead: ask with a short limit.
                var hosts = await management.GetHosts(onlyActive: false).WaitAsync(TimeSpan.FromSeconds(1));
                return hosts.Any(h => h.Key.ToParsableString() == victimNode && h.Value == SiloStatus.Dead);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return false; // the call crossed the failover itself: ask again
            }
        }
        await cluster.StartSiloAsync(cpus: 2);
        await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 3, "the new silo joins");
        var joined = clock.Elapsed;

        await submitting.WaitAsync(TimeSpan.FromMinutes(2));
        var results = await ray.GetAsync(refs, TimeSpan.FromMinutes(3));
        var allBack = clock.Elapsed;
        var atRiskBack = await recovered;
        for (var i = 0; i < TaskCount; i++)
        {
            Assert.Equal(i * i, results[i]);
        }

        var outcomes = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(3));
        for (var n = 0; n < ActorCount; n++)
        {
            Assert.Equal(CallsPerActor, outcomes[n].Count);
            if (actors[n].Restartable || homes[n] != victimNode)
            {
                Assert.All(outcomes[n], o => Assert.Equal("ok", o));
            }
            else
            {
                // Once dead, it stays dead: no call succeeds after the first that failed.
                var firstDied = outcomes[n].IndexOf("died");
                Assert.True(firstDied >= 0, $"actor {n} lived on the killed node without restarts, yet never failed");
                Assert.All(outcomes[n].Skip(firstDied), o => Assert.Equal("died", o));
            }
        }

        // The restartable actors of the killed node run again elsewhere.
        for (var n = 0; n < ActorCount; n += 2)
        {
            string now;
            try
            {
                now = await actors[n].Handle.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline);
            }
            catch (GetTimeoutException e)
            {
                throw new Xunit.Sdk.XunitException($"restartable actor {n} (first on {homes[n]}, killed node {victimNode}) does not answer: {e.Message}");
            }

            Assert.NotEqual(victimNode, now);
        }

        output.WriteLine($"killed node {victimNode} declared dead after {declaredDead.TotalSeconds:F1} s; new silo joined after {joined.TotalSeconds:F1} s; " +
                         $"the {atRisk:N0} results submitted before the kill back after {atRiskBack.TotalSeconds:F1} s, all {TaskCount:N0} after {allBack.TotalSeconds:F1} s; " +
                         $"actors on it: {homes.Count(h => h == victimNode)} of {ActorCount}");
    }
}
