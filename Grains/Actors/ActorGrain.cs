using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;
using RayOrleans.Node;
using RayOrleans.Placement;
using RayOrleans.Runtime;

namespace RayOrleans.Actors;

/// <summary>
/// One actor: an instance of the user's class living in this activation for the actor's lifetime. Calls
/// from each caller are put back into submission order by sequence number (Orleans does not promise
/// message order), then run by <c>MaxConcurrency</c> workers off the grain's scheduler, so user code may
/// block or await other actors without stalling this grain's message handling.
/// </summary>
[LeastLoadedPlacement, KeepAlive]
internal sealed partial class ActorGrain : Grain, IActorGrain
{
    private static readonly TimeSpan CreationDeadline = TimeSpan.FromSeconds(60);

    private readonly LocalScheduler _scheduler;
    private readonly ActorSupervision _supervision;
    private readonly ILogger<ActorGrain> _logger;
    private readonly TaskReplyBatches _replies;
    private readonly ActorMailbox _mailbox = new();
    private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _death = new();
    private readonly ActorExecutor _executor;
    private ActorSpec? _spec;
    private object? _instance;
    private string _state = "PENDING_CREATION";
    private string? _deathCause;
    private int _restarts;
    private bool _holdsResources;
    private bool _deadlineArmed;
    private DateTime? _startTime;
    private DateTime? _endTime;

    public ActorGrain(LocalScheduler scheduler, ActorSupervision supervision, TaskReplyBatches replies, ILogger<ActorGrain> logger)
    {
        _replies = replies;
        _scheduler = scheduler;
        _supervision = supervision;
        _logger = logger;
        _executor = new ActorExecutor(scheduler, () => Volatile.Read(ref _instance), ReplyDead, _death.Token);
    }

    private RayRuntime Runtime => _scheduler.NodeRuntime.Runtime;

    /// <summary>Where the actor's resources come from: the node's, or its placement group bundle's.</summary>
    private NodeResources? _pool;

    private ActorId Id => new(this.GetPrimaryKey());

    public async Task<string> CreateAsync(ActorSpec spec)
    {
        var node = _scheduler.NodeRuntime.NodeId;
        if (_spec is not null)
        {
            await _created.Task; // creation is idempotent: a second create waits for the first
            return node;
        }

        _spec = spec;
        _restarts = spec.Restarts;
        _startTime = DateTime.UtcNow;
        // This node re-publishes the holds on the refs it is built from after a node died (their creator may be gone).
        // A restart after its node died re-publishes them at once too: the shards lost with that node may have been
        // rebuilt before it lived again, and a rebuilt shard counts a hold once however often it comes.
        Runtime.Hosted.Keep(Objects.ObjectHolders.Actor(spec.ActorId.Value), RayRuntime.ActorHeldRefs(spec), restore: spec.Restarts > 0);
        _scheduler.ActorTable.Hosted(Id, Describe);
        if (spec.Restarts > 0)
        {
            _mailbox.StartRebased(); // a re-creation after the node died
        }

        try
        {
            if (spec.Name is { } name &&
                !await GrainFactory.GetGrain<IActorRegistryGrain>(spec.Namespace).TryRegisterAsync(name, spec.ActorId, spec.ClassName))
            {
                throw new ArgumentException($"An actor named '{name}' already exists in namespace '{spec.Namespace}'.");
            }

            if (spec.Strategy is { Kind: SchedulingKind.NodeAffinity, Soft: false, NodeId: { } pinned } && pinned != node)
            {
                throw new InvalidOperationException($"Actor {spec.ClassName} may run only on node {pinned} ({spec.Strategy}): {Runtime.Cluster.DescribeInfeasible(spec.Resources, spec.Strategy)}.");
            }

            // A placement group's actor takes its resources from its bundle here, others from the node.
            _pool = _scheduler.PoolFor(spec.Strategy, spec.Resources, out var noPool)
                ?? throw new InvalidOperationException($"Actor {spec.ClassName} cannot live in its placement group: {noPool}.");
            if (!_pool.IsFeasible(spec.Resources))
            {
                throw new InvalidOperationException($"Actor {spec.ClassName} needs {spec.Resources}, and no node can hold it: {Runtime.Cluster.DescribeInfeasible(spec.Resources)}.");
            }

            if (spec.Strategy is { Kind: SchedulingKind.PlacementGroup } pg)
            {
                _scheduler.Bundles.AddActor(spec.ActorId, pg.PlacementGroupId);
            }

            await _pool.AcquireAsync(spec.Resources, priority: false, _death.Token, spec.ActorId.Value);
            _holdsResources = true;
            _executor.GpuIds = _pool.GpuIdsOf(spec.ActorId.Value);
            _scheduler.ActorStarted();
            _instance = await Task.Run(() => _executor.ConstructAsync(spec));
            _state = "ALIVE";
            _mailbox.Start(_executor.ExecuteAsync, spec.MaxConcurrency);
            _scheduler.LocalActors.Add(Id, _mailbox);
            if (spec.Name is { } registered)
            {
                _scheduler.LocalActors.AddName(Id, spec.Namespace, registered, spec.ClassName);
            }

            // Before the creation completes, so a creator that exits at once leaves the record behind.
            await PublishToSupervisorAsync();
            _created.TrySetResult();
            return node;
        }
        catch (Exception e)
        {
            var cause = e is RayTaskException rte ? rte.Message : $"its constructor failed with {e.GetType().FullName}: {e.Message}";
            await DieAsync($"Actor {spec.ClassName} ({spec.ActorId}) could not be created: {cause}");
            throw;
        }
    }

    public Task<ObjectValue> CallAsync(ActorCall call)
    {
        if (_state == "DEAD" || _mailbox.Post(call) is not { } reply)
        {
            return Task.FromResult(DeadValue(call));
        }

        if (_spec is null && !_deadlineArmed)
        {
            // A call can overtake the create message; if the create never comes (its sender died), fail
            // the calls instead of holding them forever.
            _deadlineArmed = true;
            _ = FailIfNeverCreatedAsync();
        }

        return reply;
    }

    public Task CallManyAsync(ActorCall[] calls, IObjectOwner owner)
    {
        foreach (var call in calls)
        {
            _replies.Track(owner, call, CallAsync(call));
        }

        return Task.CompletedTask;
    }

    public Task FailAsync(string cause) => DieAsync(cause);

    public Task<HeldCalls> HeldCallsAsync(ActorCall[] calls)
    {
        if (_spec is null || _state == "DEAD")
        {
            if (_spec is null && _state != "DEAD")
            {
                DeactivateOnIdle(); // woken only by this question: no actor was ever built here (a death recorded here stays)
            }

            return Task.FromResult(new HeldCalls { Held = [], Replies = [], Unknown = true, Dead = _state == "DEAD" });
        }

        var answer = _mailbox.Held(calls);
        return Task.FromResult(new HeldCalls
        {
            Held = answer.Held, Replies = answer.Replies, NotArrived = answer.NotArrived, Incarnation = _restarts,
            Age = _startTime is { } started ? DateTime.UtcNow - started : TimeSpan.Zero,
        });
    }

    private async Task FailIfNeverCreatedAsync()
    {
        await Task.WhenAny(_created.Task, Task.Delay(CreationDeadline));
        if (_spec is null)
        {
            await DieAsync($"Actor {Id} was never created here within {CreationDeadline.TotalSeconds:0} s: its creator or its node was lost.");
        }
    }

    public async Task KillAsync(bool noRestart)
    {
        if (_state == "DEAD")
        {
            return;
        }

        var spec = _spec;
        if (!noRestart && spec is not null && (spec.MaxRestarts < 0 || _restarts < spec.MaxRestarts) && _instance is not null)
        {
            // A restart builds a fresh instance from the original constructor arguments; calls queued
            // meanwhile run on the new instance.
            _state = "RESTARTING";
            _restarts++;
            LogRestart(_logger, spec.ClassName, Id, _restarts);
            await DisposeInstanceAsync(_instance);
            try
            {
                Volatile.Write(ref _instance, await Task.Run(() => _executor.ConstructAsync(spec)));
                _state = "ALIVE";
                await PublishToSupervisorAsync(); // the record counts the restart
                return;
            }
            catch (Exception e)
            {
                await DieAsync($"Actor {spec.ClassName} ({Id}) failed to restart: {e.Message}");
                return;
            }
        }

        await DieAsync(noRestart
            ? $"Actor {spec?.ClassName} ({Id}) was killed with Kill(noRestart: true)."
            : $"Actor {spec?.ClassName} ({Id}) was killed and has no restarts left (MaxRestarts = {spec?.MaxRestarts}).");
    }

    public Task<ActorInfo> GetInfoAsync() => Task.FromResult(Describe());

    /// <summary>This actor as the state API shows it (read from other threads: every field is a single read).</summary>
    private ActorInfo Describe()
    {
        var spec = _spec;
        return new ActorInfo
        {
            ActorId = Id, State = _state, Node = _scheduler.NodeRuntime.NodeId, Restarts = _restarts, DeathCause = _deathCause, ClassName = spec?.ClassName,
            Name = spec?.Name, Namespace = spec?.Namespace, JobId = spec?.JobId ?? "", Resources = spec?.Resources, MaxRestarts = spec?.MaxRestarts ?? 0,
            Detached = spec?.Detached ?? false, PendingCalls = _mailbox.HeldCount, StartTime = _startTime, EndTime = _endTime,
        };
    }

    /// <param name="cause">Why, for every call that finds it dead.</param>
    /// <param name="final">
    /// Dead for good (killed, restarts used up, creation failed): its constructor's refs are let go. Not when
    /// its silo deactivates it, since its creator may build it again elsewhere from the same refs.
    /// </param>
    private async Task DieAsync(string cause, bool final = true)
    {
        if (_state == "DEAD")
        {
            return;
        }

        LogDeath(_logger, Id, cause);
        _state = "DEAD";
        _deathCause = cause;
        _endTime = DateTime.UtcNow;
        if (_spec is not null)
        {
            _scheduler.ActorTable.Died(Id, Describe());
        }
        _death.Cancel();
        _scheduler.LocalActors.Remove(Id, _mailbox);
        var pending = _mailbox.Close();
        var instance = Interlocked.Exchange(ref _instance, null);
        if (instance is not null)
        {
            await DisposeInstanceAsync(instance);
        }

        _executor.ReleaseCode();

        if (_holdsResources && _spec is not null)
        {
            _holdsResources = false;
            (_pool ?? _scheduler.Resources).Release(_spec.Resources, _spec.ActorId.Value);
            _scheduler.Bundles.RemoveActor(_spec.ActorId);
            _scheduler.ActorStopped();
        }

        if (_spec is not null)
        {
            var holder = Objects.ObjectHolders.Actor(_spec.ActorId.Value);
            if (final)
            {
                // Dead for good: the refs it was built from (held for restarts since its creation) are let go.
                Runtime.Hosted.Release(holder, RayRuntime.ActorHeldRefs(_spec));
            }
            else
            {
                Runtime.Hosted.Forget(holder); // it may live again elsewhere, which keeps the holds from then on
            }
        }

        if (_spec?.Name is { } name)
        {
            await GrainFactory.GetGrain<IActorRegistryGrain>(_spec.Namespace).UnregisterAsync(name, Id);
        }

        if (_spec is { MaxRestarts: not 0 })
        {
            _supervision.Unhosted(Id);
            if (final)
            {
                await TellSupervisorEndedAsync(cause);
            }
        }

        _created.TrySetException(new ActorDiedException(DeathError(Guid.Empty, "create")));
        _ = _created.Task.Exception; // observed: callers see the state, not this task
        foreach (var call in pending)
        {
            ReplyDead(call);
        }
    }

    /// <summary>
    /// Gives a restartable actor's spec to its cluster-side supervisor (<see cref="ActorSupervisorGrain"/>),
    /// placed on another node than this one so the record outlives this node. A failure is logged, not fatal:
    /// the actor lives on, and its creator publishes the record again if it finds it missing.
    /// </summary>
    private async Task PublishToSupervisorAsync(int attempt = 0)
    {
        if (_spec is not { MaxRestarts: not 0 } spec || _state == "DEAD")
        {
            return;
        }

        var self = _scheduler.NodeRuntime.NodeId;
        var current = spec with { Restarts = _restarts };
        var supervisor = GrainFactory.GetGrain<IActorSupervisorGrain>(Id.Value);
        // Any other node: the hint only matters when the supervisor is not active yet. This node is named as the
        // one to avoid too, so a hinted node that is gone (the view lags membership) does not send it here.
        var others = Runtime.Cluster.Nodes.Where(n => n.NodeId != self).Select(n => n.NodeId).Order(StringComparer.Ordinal).ToArray();
        // The silo's membership watcher calls the republish back off the grain's scheduler, where grain calls fail
        // with an activation access violation: it runs as a work item of this activation instead.
        var activation = _activation ??= TaskScheduler.Current;
        Task<string>? publish = null;
        try
        {
            RequestContext.Set(LeastLoadedPlacementDirector.AvoidKey, self);
            if (others.Length > 0)
            {
                RequestContext.Set(LeastLoadedPlacementDirector.NodeHintKey, others[(int)((uint)Id.Value.GetHashCode() % (uint)others.Length)]);
            }

            try
            {
                publish = supervisor.SuperviseAsync(current, self);
            }
            finally
            {
                RequestContext.Remove(LeastLoadedPlacementDirector.NodeHintKey);
                RequestContext.Remove(LeastLoadedPlacementDirector.AvoidKey);
            }

            var at = await publish.WaitAsync(SupervisorWait);
            if (at == self && others.Length > 0 && attempt < 3)
            {
                // It refused to keep the record on this node (an activation placed here before this publish): it
                // is going, and the next publish places a fresh one elsewhere.
                await PublishToSupervisorAsync(attempt + 1);
                return;
            }

            Supervised(at);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogSupervisionFailed(_logger, spec.ClassName, Id, e);
            // A call to a grain whose last activation died waits for the grain directory to recover, which can take
            // longer than the wait: when it lands after all, its node is the one to watch.
            publish?.ContinueWith(t => Supervised(t.Result), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }

        void Supervised(string at)
        {
            if (_state != "DEAD")
            {
                _supervision.Hosted(Id, at, () => Task.Factory.StartNew(() => PublishToSupervisorAsync(), CancellationToken.None, TaskCreationOptions.None, activation).Unwrap());
            }
        }
    }

    private static readonly TimeSpan SupervisorWait = TimeSpan.FromSeconds(10);

    /// <summary>This activation's scheduler, captured on it, for work started from outside (a new supervisor).</summary>
    private TaskScheduler? _activation;

    private async Task TellSupervisorEndedAsync(string cause)
    {
        try
        {
            await GrainFactory.GetGrain<IActorSupervisorGrain>(Id.Value).EndedAsync(cause).WaitAsync(SupervisorWait);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            LogSupervisionFailed(_logger, _spec?.ClassName ?? "?", Id, e);
        }
    }

    private void ReplyDead(PendingCall pending) => _executor.Reply(pending, DeadValue(pending.Call));

    private ObjectValue DeadValue(ActorCall call) => new() { Error = DeathError(call.CallId, call.Name), ProducerNode = _scheduler.NodeRuntime.NodeId };

    private RayErrorInfo DeathError(Guid callId, string name) => new()
    {
        Kind = RayErrorKind.ActorDied, ExceptionType = typeof(ActorDiedException).FullName!,
        Message = $"The actor died before '{name}' could run: {_deathCause}", TaskName = name, TaskId = callId, Node = _scheduler.NodeRuntime.NodeId,
    };

    private static async Task DisposeInstanceAsync(object instance)
    {
        try
        {
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        catch (Exception)
        {
            // The actor is going away either way; a failing Dispose must not keep it alive.
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Deactivation (silo shutdown) ends the actor on this node.
        await DieAsync($"Actor {Id} was deactivated: {reason.Description}", final: false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Actor {ClassName} ({ActorId}) restarts (restart {Restarts}).")]
    private static partial void LogRestart(ILogger logger, string className, ActorId actorId, int restarts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Actor {ClassName} ({ActorId}) could not reach its supervisor; the cluster may not restart it if its node dies.")]
    private static partial void LogSupervisionFailed(ILogger logger, string className, ActorId actorId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Actor {ActorId} died: {Cause}")]
    private static partial void LogDeath(ILogger logger, ActorId actorId, string cause);
}
