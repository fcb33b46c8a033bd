using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RayOrleans.Grains;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;
using RayOrleans.Recovery;

namespace RayOrleans.Actors;

/// <summary>
/// The cluster's record of one restartable actor (<c>MaxRestarts != 0</c>), and the one place that decides its
/// restarts after its node dies, as Ray's GCS actor manager does: so a detached actor whose creator exited (or
/// crashed) comes back, and every caller, not only the creator, learns where it went
/// (<see cref="IActorSupervisorGrain"/>). The creator no longer restarts actors itself; it follows this record,
/// so two processes never both restart one actor.
/// <para>
/// The record is written to the cluster-state grain storage on every change (<see cref="ActorSupervisorRecord"/>;
/// Redis on a Redis cluster) and the actor is listed in the recovery index (<see cref="Recovery.RecoveryIndexGrain"/>),
/// which tells this grain of every node death even when its activation died: so the actor is restarted when its
/// node and this grain's node die together, with its creator gone. Kept off its actor's node besides
/// (<see cref="ActorGrain"/>), so one death does not take both: the restart then needs no storage read, and a
/// cluster whose storage is in memory (embedded) keeps the record while the actor's node alone dies.
/// </para>
/// </summary>
[LeastLoadedPlacement, KeepAlive, Reentrant]
internal sealed partial class ActorSupervisorGrain : Grain, IActorSupervisorGrain
{
    /// <summary>How long a dead actor's record stays to answer its callers with the cause.</summary>
    private static readonly TimeSpan KeptDead = TimeSpan.FromMinutes(5);

    private readonly NodeRuntime _node;
    private readonly ActorSupervision _supervision;
    private readonly ILogger<ActorSupervisorGrain> _logger;
    private readonly IPersistentState<ActorSupervisorRecord> _stored;
    private readonly GroupedWrites _writes;
    private long _aliveSince = Stopwatch.GetTimestamp();
    private IGrainTimer? _expiry;

    /// <summary>This activation heard from the actor (or restarted it): it is where the actor reports, not a copy woken on a question.</summary>
    private bool _heard;

    public ActorSupervisorGrain(
        NodeRuntime node, ActorSupervision supervision, ILogger<ActorSupervisorGrain> logger,
        [PersistentState("supervisor", ClusterStateStorageOptions.ProviderName)] IPersistentState<ActorSupervisorRecord> stored)
    {
        _node = node;
        _supervision = supervision;
        _logger = logger;
        _stored = stored;
        _writes = new GroupedWrites(stored.WriteStateAsync);
    }

    private ActorId Id => new(this.GetPrimaryKey());

    private ActorSupervisorRecord Record => _stored.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Record.Spec is not { } spec)
        {
            return Task.CompletedTask;
        }

        // Woken after the silo it lived on died (by the recovery index, the actor or a caller): carry on from the record.
        LogResumed(_logger, spec.ClassName, spec.ActorId, Record.State, Record.Node);
        switch (Record.State)
        {
            case "ALIVE" when Record.Node is { } at && _supervision.IsDead(at):
                _ = RestartOrFailAsync(at); // its node died with this grain's: restart it now
                break;
            case "ALIVE" when Record.Node is { } at:
                _supervision.Watch(Id, at);
                break;
            case "RESTARTING":
                _heard = true; // this activation makes the new incarnation: it keeps the record wherever it landed
                _ = CreateAgainAsync(spec, Record.LostOn ?? "an earlier node"); // the restart was on its way
                break;
            case "DEAD":
                ExpireDead();
                break;
        }

        return Task.CompletedTask;
    }

    public async Task<string> SuperviseAsync(ActorSpec spec, string at)
    {
        if (Record.State == "DEAD" || (Record.Spec is not null && spec.Restarts < Record.Spec.Restarts))
        {
            return _node.NodeId; // ended, or news of an earlier incarnation than the one known
        }

        if (!_heard && at == _node.NodeId && _supervision.HasOtherLiveNode(at))
        {
            // This activation was placed on the actor's own node (woken first by a caller's question or the recovery
            // index, which cannot say where the actor lives): one death would take both. It goes (the record stays
            // in storage); the actor, told it landed on its own node, publishes again and the new activation avoids
            // this node.
            DeactivateOnIdle();
            return _node.NodeId;
        }

        _heard = true;
        var first = Record.Spec is null;
        var changed = first || spec.Restarts != Record.Spec!.Restarts || at != Record.Node || Record.State != "ALIVE";
        if (changed)
        {
            _aliveSince = Stopwatch.GetTimestamp();
        }

        Record.Spec = spec;
        Record.Node = at;
        Record.State = "ALIVE";
        Record.LostOn = null;
        _supervision.Watch(Id, at);
        if (_supervision.IsDead(at))
        {
            // Published again (by the actor's creator) after both the actor's node and its old supervisor died.
            _ = RestartOrFailAsync(at);
        }

        if (first)
        {
            // Listed before its record is written: a crash between the two leaves a listed id with no record (which
            // a wake-up ignores), never a record that no node death would wake.
            await ListedAsync(add: true);
        }

        if (changed)
        {
            await PersistAsync(); // before the answer: the actor counts itself supervised once the record is stored
        }

        return _node.NodeId;
    }

    public async Task EndedAsync(string cause)
    {
        if (End(cause))
        {
            await PersistAsync();
        }
    }

    public Task NodeDiedAsync(string dead) => Record.State == "ALIVE" && Record.Node == dead ? RestartOrFailAsync(dead) : Task.CompletedTask;

    public Task<ActorStatus> StatusAsync()
    {
        if (Record.Spec is not { } spec)
        {
            DeactivateOnIdle(); // woken only by this question: nothing is supervised here
            return Task.FromResult(new ActorStatus { Known = false });
        }

        return Task.FromResult(new ActorStatus
        {
            Known = true, State = Record.State, Node = Record.State == "ALIVE" ? Record.Node : null, Restarts = spec.Restarts, MaxRestarts = spec.MaxRestarts,
            MaxTaskRetries = spec.MaxTaskRetries, Cause = Record.Cause, Age = Stopwatch.GetElapsedTime(_aliveSince), ClassName = spec.ClassName,
            SupervisorNode = _node.NodeId,
        });
    }

    /// <summary>The actor's node died: build it again elsewhere while MaxRestarts allows, else it dies naming why.</summary>
    private async Task RestartOrFailAsync(string lostOn)
    {
        if (Record.State != "ALIVE" || Record.Node != lostOn || Record.Spec is not { } spec)
        {
            return; // another turn already acts on this loss
        }

        Record.State = "RESTARTING";
        Record.Node = null;
        Record.LostOn = lostOn;
        _heard = true;
        _supervision.Unwatch(Id);
        if (!spec.Detached && await JobEndedAsync(spec.JobId) is { } ended)
        {
            await FailAsync(spec, $"Actor {spec.ClassName} ({spec.ActorId}) was lost with node {lostOn} and is not restarted: its job's driver is gone ({ended}).");
            return;
        }

        if (spec.MaxRestarts >= 0 && spec.Restarts >= spec.MaxRestarts)
        {
            await FailAsync(spec, $"Actor {spec.ClassName} ({spec.ActorId}) was lost with node {lostOn} and has no restarts left (MaxRestarts = {spec.MaxRestarts}).");
            return;
        }

        var again = spec with { Restarts = spec.Restarts + 1 };
        Record.Spec = again;
        LogRestart(_logger, spec.ClassName, spec.ActorId, lostOn, again.Restarts);
        // Stored before the creation: an activation after this one's silo died finishes the restart, and counts it once.
        await PersistAsync();
        await CreateAgainAsync(again, lostOn);
    }

    /// <summary>Creates incarnation <c>again.Restarts</c> (idempotent: a creation already on its way is waited for).</summary>
    private async Task CreateAgainAsync(ActorSpec again, string lostOn)
    {
        _node.Cluster.MarkUnreachable(lostOn); // the view may list the dead node for another moment
        try
        {
            // The new incarnation reports itself (SuperviseAsync) before its creation completes.
            // Not on this node while another fits: a later death of this one node must not take both again.
            var at = await _node.Runtime.CreateActorAsync(again, track: false, avoid: _node.NodeId);
            if (Record.State == "RESTARTING")
            {
                Record.State = "ALIVE";
                Record.Node = at;
                Record.LostOn = null;
                _aliveSince = Stopwatch.GetTimestamp();
                _supervision.Watch(Id, at);
                await PersistAsync();
            }
        }
        catch (Exception e) when (Record.State != "DEAD")
        {
            // Its constructor failed (its grain recorded the death and told us) or its new node was lost too.
            await FailAsync(again, $"Actor {again.ClassName} ({again.ActorId}) was lost with node {lostOn} and could not be restarted: {e.Message}");
        }
        catch (Exception)
        {
            // Its grain already told us why it died.
        }
    }

    /// <summary>The reason a non-detached actor's job has ended (its driver is gone), or null while it runs or is unknown.</summary>
    private async Task<string?> JobEndedAsync(string jobId)
    {
        try
        {
            var jobs = await GrainFactory.GetGrain<IJobRegistryGrain>(0).ListAsync().WaitAsync(TimeSpan.FromSeconds(5));
            return jobs.FirstOrDefault(j => j.JobId == jobId) is { Status: not "RUNNING" } job ? $"job {jobId} is {job.Status}" : null;
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return null; // the registry is being moved: restart rather than lose the actor
        }
    }

    /// <summary>Marks the actor dead for good where callers find it, and lets go of the refs it was built from.</summary>
    private async Task FailAsync(ActorSpec spec, string cause)
    {
        End(cause);
        LogDied(_logger, spec.ClassName, spec.ActorId, cause);
        await PersistAsync();
        try
        {
            // A fresh activation that records the death, so calls fail at once with the cause.
            await _node.Runtime.Actor(spec.ActorId).FailAsync(cause);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogFailFailed(_logger, spec.ActorId, e);
        }

        // Its grain died without its spec, so it cannot let go of the holds its creator took for restarts.
        var holder = Objects.ObjectHolders.Actor(spec.ActorId.Value);
        foreach (var id in Runtime.RayRuntime.ActorHeldRefs(spec))
        {
            _node.Runtime.Publisher.RemoveRef(id, holder);
        }
    }

    /// <summary>Records the death (in memory; the caller writes it); false when it was already recorded.</summary>
    private bool End(string cause)
    {
        if (Record.State == "DEAD")
        {
            return false;
        }

        Record.State = "DEAD";
        Record.Cause = cause;
        Record.Node = null;
        Record.LostOn = null;
        Record.DiedAtUtc = DateTime.UtcNow;
        _supervision.Unwatch(Id);
        ExpireDead();
        return true;
    }

    /// <summary>A dead actor's record answers its callers for <see cref="KeptDead"/>, then is deleted and the grain let go.</summary>
    private void ExpireDead()
    {
        var left = KeptDead - (DateTime.UtcNow - (Record.DiedAtUtc ?? DateTime.UtcNow));
        _expiry ??= this.RegisterGrainTimer(async () =>
        {
            try
            {
                await _writes.WrittenAsync(); // the last write first: the storage allows one change at a time
                await _stored.ClearStateAsync();
                await ListedAsync(add: false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogWriteFailed(_logger, Id, "DEAD (deleting)", e);
            }

            DeactivateOnIdle();
        }, new GrainTimerCreationOptions(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    /// <summary>Writes the record; a failure is logged and the grain goes on from memory (its next change writes it whole).</summary>
    private async Task PersistAsync()
    {
        try
        {
            await _writes.WrittenAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogWriteFailed(_logger, Id, Record.State, e);
        }
    }

    private async Task ListedAsync(bool add)
    {
        var shard = RecoveryIndexGrain.For(GrainFactory, RecoveryKinds.ActorSupervisors, Id.Value);
        try
        {
            await (add ? shard.AddAsync(Id.Value) : shard.RemoveAsync(Id.Value));
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogWriteFailed(_logger, Id, add ? "listed" : "unlisted", e);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _supervision.Unwatch(Id);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) was lost with node {Node}; the cluster creates it again (restart {Restarts}).")]
    private static partial void LogRestart(ILogger logger, string className, ActorId actorId, string node, int restarts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) died for good: {Cause}")]
    private static partial void LogDied(ILogger logger, string className, ActorId actorId, string cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "The supervisor of actor {ClassName} ({ActorId}) activated from its record ({State} on {Node}).")]
    private static partial void LogResumed(ILogger logger, string className, ActorId actorId, string state, string? node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing the supervision record of actor {ActorId} ({State}) failed; it goes on from memory.")]
    private static partial void LogWriteFailed(ILogger logger, ActorId actorId, string state, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the death of actor {ActorId} failed; its calls may wait for a creation that never comes.")]
    private static partial void LogFailFailed(ILogger logger, ActorId actorId, Exception exception);
}
