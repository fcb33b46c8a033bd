using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;

namespace RayOrleans.Actors;

/// <summary>
/// The cluster's record of one restartable actor (<c>MaxRestarts != 0</c>), and the one place that decides its
/// restarts after its node dies, as Ray's GCS actor manager does: so a detached actor whose creator exited (or
/// crashed) comes back, and every caller, not only the creator, learns where it went
/// (<see cref="IActorSupervisorGrain"/>). The creator no longer restarts actors itself; it follows this record,
/// so two processes never both restart one actor.
/// <para>
/// The record is in this activation's memory (a Redis cluster could keep it in grain storage, an embedded one
/// could not; one mechanism for both): it survives the actor's node because the actor places its supervisor on
/// another node (<see cref="ActorGrain"/>), and it survives the supervisor's node because the actor, which holds
/// its own spec, publishes it again to a fresh activation (<see cref="ActorSupervision"/>). Only the loss of both
/// at once loses it, and then the actor's creator, while it lives, publishes it again from its own copy.
/// </para>
/// </summary>
[LeastLoadedPlacement, KeepAlive, Reentrant]
internal sealed partial class ActorSupervisorGrain(NodeRuntime node, ActorSupervision supervision, ILogger<ActorSupervisorGrain> logger)
    : Grain, IActorSupervisorGrain
{
    /// <summary>How long a dead actor's record stays to answer its callers with the cause.</summary>
    private static readonly TimeSpan KeptDead = TimeSpan.FromMinutes(5);

    private ActorSpec? _spec;
    private string? _node;
    private string _state = "ALIVE";
    private string? _cause;
    private long _aliveSince = Stopwatch.GetTimestamp();
    private IGrainTimer? _expiry;

    private ActorId Id => new(this.GetPrimaryKey());

    public Task<string> SuperviseAsync(ActorSpec spec, string at)
    {
        if (_state == "DEAD" || (_spec is not null && spec.Restarts < _spec.Restarts))
        {
            return Task.FromResult(node.NodeId); // ended, or news of an earlier incarnation than the one known
        }

        if (_spec is null && at == node.NodeId && supervision.HasOtherLiveNode(at))
        {
            // This activation was placed on the actor's own node (woken first by a caller's question, which
            // cannot say where the actor lives): one death would take both. It keeps nothing and goes; the
            // actor, told it landed on its own node, publishes again and the new activation avoids this node.
            DeactivateOnIdle();
            return Task.FromResult(node.NodeId);
        }

        if (_spec is null || spec.Restarts != _spec.Restarts || at != _node || _state != "ALIVE")
        {
            _aliveSince = Stopwatch.GetTimestamp();
        }

        _spec = spec;
        _node = at;
        _state = "ALIVE";
        supervision.Watch(Id, at);
        if (supervision.IsDead(at))
        {
            // Published again (by the actor's creator) after both the actor's node and its old supervisor died.
            _ = RestartOrFailAsync(at);
        }

        return Task.FromResult(node.NodeId);
    }

    public Task EndedAsync(string cause)
    {
        End(cause);
        return Task.CompletedTask;
    }

    public Task NodeDiedAsync(string dead) => _state == "ALIVE" && _node == dead ? RestartOrFailAsync(dead) : Task.CompletedTask;

    public Task<ActorStatus> StatusAsync()
    {
        if (_spec is not { } spec)
        {
            DeactivateOnIdle(); // woken only by this question: nothing is supervised here
            return Task.FromResult(new ActorStatus { Known = false });
        }

        return Task.FromResult(new ActorStatus
        {
            Known = true, State = _state, Node = _state == "ALIVE" ? _node : null, Restarts = spec.Restarts, MaxRestarts = spec.MaxRestarts,
            MaxTaskRetries = spec.MaxTaskRetries, Cause = _cause, Age = Stopwatch.GetElapsedTime(_aliveSince), ClassName = spec.ClassName,
            SupervisorNode = node.NodeId,
        });
    }

    /// <summary>The actor's node died: build it again elsewhere while MaxRestarts allows, else it dies naming why.</summary>
    private async Task RestartOrFailAsync(string lostOn)
    {
        if (_state != "ALIVE" || _node != lostOn || _spec is not { } spec)
        {
            return; // another turn already acts on this loss
        }

        _state = "RESTARTING";
        _node = null;
        supervision.Unwatch(Id);
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
        _spec = again;
        LogRestart(logger, spec.ClassName, spec.ActorId, lostOn, again.Restarts);
        node.Cluster.MarkUnreachable(lostOn); // the view may list the dead node for another moment
        try
        {
            // The new incarnation reports itself (SuperviseAsync) before its creation completes.
            // Not on this node while another fits: a later death of this one node must not take both again.
            var at = await node.Runtime.CreateActorAsync(again, track: false, avoid: node.NodeId);
            if (_state == "RESTARTING")
            {
                _state = "ALIVE";
                _node = at;
                _aliveSince = Stopwatch.GetTimestamp();
                supervision.Watch(Id, at);
            }
        }
        catch (Exception e) when (_state != "DEAD")
        {
            // Its constructor failed (its grain recorded the death and told us) or its new node was lost too.
            await FailAsync(again, $"Actor {spec.ClassName} ({spec.ActorId}) was lost with node {lostOn} and could not be restarted: {e.Message}");
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
        LogDied(logger, spec.ClassName, spec.ActorId, cause);
        try
        {
            // A fresh activation that records the death, so calls fail at once with the cause.
            await node.Runtime.Actor(spec.ActorId).FailAsync(cause);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogFailFailed(logger, spec.ActorId, e);
        }

        // Its grain died without its spec, so it cannot let go of the holds its creator took for restarts.
        var holder = Objects.ObjectHolders.Actor(spec.ActorId.Value);
        foreach (var id in Runtime.RayRuntime.ActorHeldRefs(spec))
        {
            node.Runtime.Publisher.RemoveRef(id, holder);
        }
    }

    private void End(string cause)
    {
        if (_state == "DEAD")
        {
            return;
        }

        _state = "DEAD";
        _cause = cause;
        _node = null;
        supervision.Unwatch(Id);
        _expiry ??= this.RegisterGrainTimer(() =>
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(KeptDead, Timeout.InfiniteTimeSpan));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        supervision.Unwatch(Id);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) was lost with node {Node}; the cluster creates it again (restart {Restarts}).")]
    private static partial void LogRestart(ILogger logger, string className, ActorId actorId, string node, int restarts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) died for good: {Cause}")]
    private static partial void LogDied(ILogger logger, string className, ActorId actorId, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the death of actor {ActorId} failed; its calls may wait for a creation that never comes.")]
    private static partial void LogFailFailed(ILogger logger, ActorId actorId, Exception exception);
}
