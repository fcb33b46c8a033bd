using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>
/// A task's reply lost on its way back (as with a gateway that died carrying it) while its node lives: the driver
/// finds the task no longer held, runs it again, and frees the stored copy the first run left behind.
/// </summary>
public sealed class LostReplyTests
{
    [Theory]
    [InlineData(true)] // submitted in a batch; its reply was in a batch of replies that was lost
    [InlineData(false)] // submitted as its own call; that call's reply was lost
    public async Task A_task_whose_reply_was_lost_runs_again_and_the_first_runs_stored_copy_is_freed(bool batched)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddRayNode(node => node.NumCpus = 2);
            silo.AddIncomingGrainCallFilter<ReplyDropper>();
            silo.AddOutgoingGrainCallFilter<ReplyDropper>();
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var ray = await FreshCluster.AttachAsync(cluster, new RayInitOptions { Runtime = new Runtime.RuntimeOptions { BatchSubmissions = batched } });
        var stores = cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<NodeObjectStore>()).ToList();
        try
        {
            var key = Probe.NewKey();
            var name = "TestTasks.FailOnceThenGatedArray";
            var before = await CountsAsync();
            // Its node retries it once on its exception (attempt 1); its result is large enough to be stored in the
            // node's object store rather than carried in the reply.
            // A task of this driver's that waits on the node first: a task sent while another waits there goes in a
            // batch (the driver's lone tasks go as their own calls).
            var node = (await ray.NodesAsync())[0].NodeId;
            var holderKey = Probe.NewKey();
            var holder = ray.Task(TestTasks.GatedArray, holderKey, 1).Options(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) }).Remote();
            await Wait.UntilAsync(() => Probe.Count(holderKey + ":started") == 1, "the holder task runs");
            var result = ray.Task(TestTasks.FailOnceThenGatedArray, key, 64 * 1024)
                .Options(new TaskOptions { MaxRetries = 3, RetryExceptions = true, SchedulingStrategy = SchedulingStrategy.NodeAffinity(node) }).Remote();
            ReplyDropper.Drop(result.Id.TaskId);
            Probe.Open(key);
            await Wait.UntilAsync(() => Probe.Count(key + ":done") == 1 && ReplyDropper.Dropped(result.Id.TaskId), "the first run ends and its reply is lost");
            Assert.Equal(1, stores.Count(s => s.Contains(result.Id))); // the first run's copy, named only in the lost reply

            // The driver finds it no longer held (twice, 5 s apart), frees that copy and runs it again.
            Assert.Equal(64 * 1024, (await result.GetAsync(TimeSpan.FromMinutes(1))).Length);
            Assert.Equal(2, Probe.Count(key + ":done"));
            Assert.Equal(1, stores.Count(s => s.Contains(result.Id))); // the retry's copy only

            // Attempts 0 (failed, retried by the node) and 1 (finished, reply lost) are the node's; the owner's retry
            // is numbered after them, and each attempt is counted once.
            Probe.Open(holderKey);
            Assert.Single(await holder.GetAsync(Wait.Deadline));
            var history = await ray.GetTaskAsync(result);
            Assert.Equal([0, 1, 2], history.Select(t => t.Attempt));
            Assert.Equal([TaskStates.Failed, TaskStates.Finished, TaskStates.Finished], history.Select(t => t.State));
            var after = await CountsAsync();
            Assert.Equal(before.Failed + 1, after.Failed);
            Assert.Equal(before.Finished + 2, after.Finished);

            async Task<(long Failed, long Finished)> CountsAsync()
            {
                var summary = await ray.SummarizeTasksAsync();
                return (summary.Where(s => s.Name == name && s.State == TaskStates.Failed).Sum(s => s.Count),
                        summary.Where(s => s.Name == name && s.State == TaskStates.Finished).Sum(s => s.Count));
            }
        }
        finally
        {
            await ray.DisposeAsync();
            ReplyDropper.ReleaseAll();
        }
    }

    /// <summary>
    /// Holds back the reply of the tasks it is told of, once each: the task ran, its reply never comes. A reply to its
    /// own call is held in the node's incoming filter; a reply in a batch is taken out of the batch as it leaves.
    /// </summary>
    private sealed class ReplyDropper : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
    {
        private static readonly ConcurrentDictionary<Guid, TaskCompletionSource?> Armed = new();

        public static void Drop(Guid taskId) => Armed.TryAdd(taskId, null);

        public static bool Dropped(Guid taskId) => Armed.TryGetValue(taskId, out var held) && held is not null;

        public static void ReleaseAll()
        {
            foreach (var held in Armed.Values)
            {
                held?.TrySetCanceled();
            }
        }

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            await context.Invoke();
            if (context.InterfaceMethod?.Name == nameof(Grains.INodeGrain.ExecuteAsync) && context.Request.GetArgument(0) is TaskSpec spec &&
                Armed.TryGetValue(spec.TaskId, out var held) && held is null)
            {
                var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Armed.TryUpdate(spec.TaskId, hold, null))
                {
                    await hold.Task; // the reply stays here until the test ends
                }
            }
        }

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(Grains.IObjectOwner.TasksRepliedAsync) && context.Request.GetArgument(0) is TaskReply[] replies)
            {
                var kept = replies.Where(r => !(Armed.TryGetValue(r.TaskId, out var held) && held is null &&
                                                Armed.TryUpdate(r.TaskId, new TaskCompletionSource(), null))).ToArray();
                if (kept.Length == 0)
                {
                    return; // acknowledged without reaching the owner
                }

                context.Request.SetArgument(0, kept);
            }

            await context.Invoke();
        }
    }
}
