using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Placement;

namespace RayOrleans.Node;

/// <summary>
/// The RPC face of this silo's node: pinned to the silo named by its key, it hands work to the
/// <see cref="LocalScheduler"/> and bytes to the <see cref="NodeObjectStore"/>.
/// </summary>
[NodePlacement, KeepAlive]
internal sealed class NodeGrain : Grain, INodeGrain
{
    private readonly LocalScheduler _scheduler;
    private readonly NodeObjectStore _store;
    private readonly NodeReporter _reporter;
    private readonly NodeDrain _drain;
    private readonly TaskReplyBatches _replies;

    public NodeGrain(LocalScheduler scheduler, NodeObjectStore store, NodeReporter reporter, NodeDrain drain, TaskReplyBatches replies)
    {
        _replies = replies;
        _scheduler = scheduler;
        _store = store;
        _reporter = reporter;
        _drain = drain;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        if (key != _scheduler.NodeRuntime.NodeId)
        {
            throw new InvalidOperationException($"Node grain '{key}' was activated on node {_scheduler.NodeRuntime.NodeId}; that node has left the cluster.");
        }

        return Task.CompletedTask;
    }

    public Task<ObjectValue[]> ExecuteAsync(TaskSpec task) => _scheduler.Enqueue(task);

    public Task SubmitAsync(TaskSpec[] tasks, IObjectOwner owner)
    {
        foreach (var task in tasks)
        {
            _replies.Track(owner, task, _scheduler.Enqueue(task));
        }

        return Task.CompletedTask;
    }

    public Task<Guid[]> HeldAsync(Guid[] taskIds) => Task.FromResult(_scheduler.Held(taskIds));

    public Task<NamedActor[]> NamedActorsAsync(string @namespace) => Task.FromResult(_scheduler.LocalActors.NamedIn(@namespace));

    public Task<bool> ReserveBundleAsync(Guid group, int index, ResourceSet demand)
    {
        var reserved = _scheduler.Bundles.Reserve(group, index, demand);
        if (reserved)
        {
            _reporter.ReportSoon(); // a big change: the view should not wait a second to see it
        }

        return Task.FromResult(reserved);
    }

    public async Task ReturnBundlesAsync(Guid group)
    {
        var actors = _scheduler.ReturnBundles(group);
        await Task.WhenAll(actors.Select(a => GrainFactory.GetGrain<IActorGrain>(a.Value).KillAsync(noRestart: true)));
        _reporter.ReportSoon();
    }

    public Task ReturnBundleAsync(Guid group, int index)
    {
        if (_scheduler.Bundles.Return(group, index))
        {
            _reporter.ReportSoon();
        }

        return Task.CompletedTask;
    }

    public Task<bool> CancelAsync(Guid taskId, bool force, bool recursive) => Task.FromResult(_scheduler.Cancel(taskId, force, recursive));

    public Task<Guid[]> HandOffAsync(Guid[] taskIds) => Task.FromResult(_scheduler.HandOff(taskIds));

    public Task<byte[]> ReadObjectAsync(ObjectId id, long offset, int count) => Task.FromResult(_store.Read(id, offset, count));

    public Task WriteObjectAsync(ObjectId id, long totalSize, long offset, byte[] chunk)
    {
        _store.Write(id, totalSize, offset, chunk);
        return Task.CompletedTask;
    }

    public Task<string> ReserveObjectAsync(ObjectId id, long size) => Task.FromResult(_store.Create(id, size).Segment!.Path);

    public Task SealObjectAsync(ObjectId id)
    {
        _store.Seal(id);
        return Task.CompletedTask;
    }

    public Task<string?> BeginObjectLeaseAsync(ObjectId id) => Task.FromResult(_store.BeginFileLease(id));

    public Task EndObjectLeaseAsync(ObjectId id)
    {
        _store.EndFileLease(id);
        return Task.CompletedTask;
    }

    public Task<int> ReleaseUnrepliedAsync(Guid taskId, int numReturns)
    {
        for (var i = 1; i <= numReturns; i++)
        {
            _store.Remove(new ObjectId(taskId, i));
        }

        return Task.FromResult(_scheduler.Events.LastAttemptOf(taskId));
    }

    public Task FreeObjectsAsync(ObjectId[] ids)
    {
        foreach (var id in ids)
        {
            _store.Remove(id);
            if (_drain.MovedTo(id) is { } to)
            {
                // Moved off this draining node: an owner that had not heard yet frees it where it went.
                _ = _scheduler.NodeRuntime.Runtime.Node(to).FreeObjectsAsync([id]).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            }
        }

        return Task.CompletedTask;
    }

    public Task AcknowledgeGeneratorAsync(Guid taskId, int consumed)
    {
        _scheduler.Acknowledge(taskId, consumed);
        return Task.CompletedTask;
    }

    public Task<NodeMemory> GetMemoryAsync(int top)
    {
        var node = _scheduler.NodeRuntime;
        var memory = _store.Describe(node.NodeId, top);
        return Task.FromResult(new NodeMemory
        {
            NodeId = memory.NodeId, Used = memory.Used, Pooled = memory.Pooled, Spilled = memory.Spilled, Capacity = memory.Capacity, Count = memory.Count,
            Largest = memory.Largest.Select(o => new StoredObjectInfo
            {
                Id = o.Id, Size = o.Size, Spilled = o.Spilled, Readers = o.Readers, PulledFrom = o.PulledFrom, Copies = node.Copies.CopiesOf(o.Id, node.NodeId),
            }).ToArray(),
        });
    }

    public Task<PullSource?> PickPullSourceAsync(ObjectId id, string requester)
    {
        var node = _scheduler.NodeRuntime;
        if (!_store.Contains(id))
        {
            return Task.FromResult<PullSource?>(null);
        }

        var source = node.Copies.PickSource(id, node.NodeId, requester);
        if (!_store.Contains(id))
        {
            // Freed between the two looks: forget the entry the pick made.
            node.Copies.Forget(id, node.NodeId);
            return Task.FromResult<PullSource?>(null);
        }

        return Task.FromResult<PullSource?>(source is null ? new PullSource { Busy = true } : new PullSource { Node = source });
    }

    public Task<bool> PullEndedAsync(ObjectId id, string source, string? copyNode, bool sourceFailed)
    {
        var node = _scheduler.NodeRuntime;
        if (sourceFailed)
        {
            node.Copies.DropSource(id, source, node.NodeId);
        }

        return Task.FromResult(node.Copies.PullEnded(id, source, copyNode));
    }

    public Task<DrainStatus> DrainAsync() => Task.FromResult(_drain.Drain());

    public Task CancelDrainAsync()
    {
        _drain.Cancel();
        return Task.CompletedTask;
    }

    public Task AdoptObjectAsync(ObjectId id, long size, string from, string[] copies) => _drain.AdoptAsync(id, size, from, copies);

    public Task<int> ObjectsMovedAsync(ObjectMove[] moves) =>
        Task.FromResult(moves.Count(m => _scheduler.NodeRuntime.Runtime.Owned.Relocate(m.Id, m.From, m.To)));

    public Task<NodeReport> GetReportAsync() => Task.FromResult(_reporter.CreateReport());

    public Task<TaskState[]> ListTasksAsync(TaskQuery query) => Task.FromResult(_scheduler.ListTasks(query));

    public Task<TaskSummary[]> SummarizeTasksAsync() => Task.FromResult(_scheduler.SummarizeTasks());

    public Task<ActorInfo[]> ListActorsAsync(ActorQuery query) =>
        Task.FromResult(_scheduler.ActorTable.List().Where(query.Matches).Take(Math.Max(0, query.Limit)).ToArray());

    public Task JobEndedAsync(string jobId)
    {
        _scheduler.Code.JobEnded(jobId);
        return Task.CompletedTask;
    }

    public Task<long> CodePackageSizeAsync(string hash) => Task.FromResult(_scheduler.Code.KeptSize(hash));

    public Task<byte[]?> ReadCodePackageAsync(string hash, long offset, int count) => _scheduler.Code.ReadKeptAsync(hash, offset, count);

    public Task FlushTaskLogsAsync() => _scheduler.NodeRuntime.Runtime.TaskLogs.FlushAsync();

    public Task<Guid[]> PlacementGroupsAsync() => Task.FromResult(_scheduler.Bundles.Groups);

    public Task ReportTaskEventsAsync(TaskState[] events)
    {
        foreach (var ended in events)
        {
            _scheduler.Events.Add(ended);
        }

        return Task.CompletedTask;
    }
}
