using Microsoft.Extensions.Logging;
using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Runtime;

/// <summary>Actors: creation on a node that fits, kills, and method calls whose replies carry their results.</summary>
internal sealed partial class RayRuntime : Actors.IActorCallOwner
{
    /// <summary>
    /// Sends an actor's creation to the least-loaded node whose resources fit it. The chosen node rides in
    /// the request context to the placement director, since the activation request does not carry the demand.
    /// </summary>
    /// <param name="spec">The actor; <c>Restarts &gt; 0</c> for a re-creation after its node died.</param>
    /// <param name="track">
    /// Whether this process is the actor's creator and follows it (false for a restart by the actor's
    /// cluster-side supervisor, which keeps the record itself).
    /// </param>
    /// <param name="avoid">
    /// A node the actor should not live on while another fits: its supervisor's, for a restart, so that one later
    /// node death never takes the actor and its record together.
    /// </param>
    /// <returns>The node the actor lives on.</returns>
    public async Task<string> CreateActorAsync(ActorSpec spec, bool track = true, string? avoid = null)
    {
        using var span = Telemetry.RayTracing.StartCreate(ref spec, LocalNodeId);
        // Owned refs among the constructor's arguments go as their records when ready; the rest escape to
        // the directory, so the creation leaves now and calls queued behind it are not held up here.
        // The actor holds them (and the refs inside value arguments) in the directory, since a restart builds
        // it from them again; its grain lets go of them when the actor dies for good.
        // Large by-value constructor arguments go through the object store, as a task's do; the actor holds them
        // below like any ref it was built from (this process's own ref to them goes once the holds are sent).
        var promoted = spec.Restarts == 0 ? PromoteLargeArguments(spec.Args) : spec.Args;
        var ownRefs = Enumerable.Range(0, promoted.Length).Where(i => promoted[i].Ref is not null && spec.Args[i].Ref is null).Select(i => promoted[i].Ref!.Value).ToArray();
        foreach (var id in ownRefs)
        {
            Owned.AddRef(id);
        }

        spec = spec with { Args = ResolveOwnedArguments(promoted, out _) };
        var holder = Objects.ObjectHolders.Actor(spec.ActorId.Value);
        var held = false;
        foreach (var id in spec.Restarts == 0 ? ActorHeldRefs(spec) : [])
        {
            // Taken once, at the first creation: a re-creation after a node died keeps the same holds.
            Owned.Escape(id);
            Publisher.AddRef(id, holder, owner: null);
            held = true;
        }

        if (held)
        {
            await Publisher.FlushAsync().ConfigureAwait(false);
        }

        foreach (var id in ownRefs)
        {
            Owned.Release(id);
        }

        string? node = null;
        TaskCompletionSource? placing = null;
        Task<string> create;
        try
        {
            if (spec.Strategy is { Kind: SchedulingKind.PlacementGroup } group)
            {
                // It waits for its group, then lives on its bundle's node. Calls sent meanwhile wait too, so
                // none of them activates the actor elsewhere first.
                placing = StartPlacing(spec.ActorId);
                node = await NodeInGroupForActorAsync(group, spec.Resources).ConfigureAwait(false);
            }
            else
            {
                node = Cluster.Pick(spec.Resources, spec.Strategy, preferred: null, forActor: true, avoid);
                if (avoid is not null && node == avoid)
                {
                    node = await PickAvoidingAsync(spec, avoid).ConfigureAwait(false);
                }
                if (node is null && spec.Strategy is not { Kind: SchedulingKind.NodeAffinity, Soft: false })
                {
                    // No node can ever hold it: it waits, as in Ray, until one that can joins; calls wait with it.
                    placing = StartPlacing(spec.ActorId);
                    node = await Infeasible.ParkActor(spec).ConfigureAwait(false);
                }
            }

            if (node is null)
            {
                // No node fits: create it anyway without a hint, so its grain records the death with the
                // reason and every call fails with ActorDiedException instead of waiting.
                create = Actor(spec.ActorId).CreateAsync(spec);
            }
            else
            {
                // Calls sent before the creation lands may reach Orleans first and activate the grain: they
                // carry the same hint until then, so whichever message places it places it on this node.
                _creating[spec.ActorId] = node;
                Interlocked.Increment(ref _creatingCount);
                create = WithPlacementHint(node, () => Actor(spec.ActorId).CreateAsync(spec));
            }
        }
        finally
        {
            // Whatever happened, calls waiting for the placement go on (with the hint, when there is a node).
            if (placing is not null && _placing.TryRemove(spec.ActorId, out _))
            {
                Interlocked.Decrement(ref _creatingCount);
                placing.TrySetResult();
            }
        }

        try
        {
            // The creator keeps the spec while the actor lives: for its calls' retries and lineage, to fail it if it
            // may not restart, and to publish its record again if its supervisor lost it. From the send on, not
            // from the creation's answer: the actor runs calls before its creation answers (it stores its
            // supervision record first), so a node that dies in between must find the creator following it.
            if (track && node is not null)
            {
                InFlight.TrackActor(spec, node);
            }

            string at;
            try
            {
                at = await create.ConfigureAwait(false);
            }
            catch (Exception e) when (track && node is not null && e is not (OrleansException or TimeoutException))
            {
                // The actor itself failed (its constructor, a taken name): it is dead, not lost with a node.
                InFlight.ActorKilled(spec.ActorId.Value, noRestart: true);
                throw;
            }

            if (track && at != node)
            {
                InFlight.TrackActor(spec, at);
            }

            return at;
        }
        finally
        {
            if (node is not null && _creating.TryRemove(spec.ActorId, out _))
            {
                Interlocked.Decrement(ref _creatingCount);
            }
        }
    }

    /// <summary>
    /// The view offered only the node to avoid. Right after a node died it may list only the nodes that reported to
    /// the view's grain since that grain came back (it lived on the dead node): while membership lists another live
    /// silo, the view is fetched again for a few seconds before the avoided node is taken after all.
    /// </summary>
    private async Task<string?> PickAvoidingAsync(ActorSpec spec, string avoid)
    {
        var deadline = Environment.TickCount64 + 5_000;
        while (Environment.TickCount64 < deadline)
        {
            var hosts = await Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).ConfigureAwait(false);
            var reported = Cluster.Reported.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
            if (!hosts.Keys.Select(s => s.ToParsableString()).Any(n => n != avoid && !reported.Contains(n) && !Cluster.IsUnreachable(n)))
            {
                break; // the view lists every other live silo already: none of them fits, so the avoided node it is
            }

            await Task.Delay(250).ConfigureAwait(false);
            await Cluster.RefreshAsync().ConfigureAwait(false);
            if (Cluster.Pick(spec.Resources, spec.Strategy, preferred: null, forActor: true, avoid) is { } node && node != avoid)
            {
                return node;
            }
        }

        return Cluster.Pick(spec.Resources, spec.Strategy, preferred: null, forActor: true, avoid);
    }

    private TaskCompletionSource StartPlacing(ActorId actor)
    {
        var placing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _placing[actor] = placing.Task;
        Interlocked.Increment(ref _creatingCount);
        return placing;
    }

    /// <summary>
    /// The node of the bundle an actor in a placement group lives in, once the group is created; null when it
    /// cannot live there (the actor's grain then fails the creation, naming the reason).
    /// </summary>
    private async Task<string?> NodeInGroupForActorAsync(SchedulingStrategy group, ResourceSet demand)
    {
        try
        {
            // A restart after the bundle's node died waits here until the group has reserved it elsewhere.
            var info = await WhenGroupSettledAsync(group.PlacementGroupId, group.BundleIndex).ConfigureAwait(false);
            return NodeInGroup(info, group.BundleIndex, demand, out _);
        }
        catch (Exception e) when (e is InvalidOperationException or OrleansException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Actors in a placement group whose node is not known yet; their calls wait for it.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ActorId, Task> _placing = new();

    /// <summary>Actors whose creation this process sent and that are not known to be placed yet, with their chosen node.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ActorId, string> _creating = new();

    /// <summary>
    /// Entries in <see cref="_creating"/> and <see cref="_placing"/> together, read on every call so the common
    /// case (no actor being placed) touches neither dictionary.
    /// </summary>
    private int _creatingCount;

    private static T WithPlacementHint<T>(string node, Func<T> send)
    {
        RequestContext.Set(Placement.LeastLoadedPlacementDirector.NodeHintKey, node);
        try
        {
            return send();
        }
        finally
        {
            RequestContext.Remove(Placement.LeastLoadedPlacementDirector.NodeHintKey);
        }
    }

    /// <summary>Logs a creation that failed where no one awaits it (the actor's grain records the death for its calls).</summary>
    public void ObserveCreation(Task creation, string className) =>
        creation.ContinueWith(
            static (t, state) =>
            {
                var (runtime, name) = ((RayRuntime, string))state!;
                LogCreationFailed(runtime._logger, name, t.Exception!.GetBaseException());
            },
            (this, className), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>Kills an actor; the creator stops watching it, or counts the restart a kill without noRestart makes.</summary>
    public Task KillActorAsync(ActorId actor, bool noRestart)
    {
        InFlight.ActorKilled(actor.Value, noRestart);
        return Actor(actor).KillAsync(noRestart);
    }

    /// <summary>
    /// Submits an actor method call this runtime owns. Its sequence number is already fixed, so it may wait
    /// here for owned ref arguments without losing its place: the actor runs each caller's calls in order.
    /// </summary>
    public void SubmitActorCall(ActorId actor, IActorGrain grain, ActorCall call)
    {
        using var span = Telemetry.RayTracing.StartSubmit(ref call, actor, LocalNodeId);
        WorkerContext.Current?.AddChild(call.CallId);
        if (PromoteLargeArguments(call.Args) is var promoted && !ReferenceEquals(promoted, call.Args))
        {
            call = call with { Args = promoted };
        }

        var pins = PinArguments(call.Args);
        Owned.AddPending(new ObjectId(call.CallId, 1), new OwnedObjects.ActorLineage(actor, call, OwnedRefArguments(call.Args, pins)));
        var args = ResolveOwnedArguments(call.Args, out var pending);
        var resolved = ReferenceEquals(args, call.Args) ? call : call with { Args = args };
        if (pending is null && TryPostToLocalActor(actor, resolved, pins))
        {
            return;
        }

        InFlight.TrackActorCall(actor, call, pins);
        if (pending is null)
        {
            SendCall(actor, resolved, attempt: 0, grain);
        }
        else
        {
            // It waits for its arguments tracked, so that a failure meanwhile is handled as for any call.
            SendWhenResolved(actor, call, attempt: 0, grain, pending);
        }
    }

    /// <summary>
    /// Posts a call whose actor lives in this process, its arguments resolved, straight to the actor's mailbox,
    /// untracked: its reply cannot be lost (the mailbox answers every call it takes, with the actor's death if it
    /// dies), so there is nothing for the in-flight record to recover, and the call back releases its pins.
    /// False when the call must go the tracked way (another process's actor, a closed mailbox).
    /// </summary>
    private bool TryPostToLocalActor(ActorId actor, ActorCall call, ObjectId[]? pins)
    {
        if (LocalScheduler is not { } local || !local.LocalActors.TryGet(actor, out var mailbox) ||
            !mailbox.TryPostLocal(call, this, actor, attempt: 0, pins, out var earlier))
        {
            return false; // closed (the actor died) included: the tracked way answers with its death
        }

        // Delivered before under the same id: not a new call's case, but answered all the same. A mailbox's reply
        // task is only ever completed with a value (failures are values too), so it never faults.
        earlier?.ContinueWith(
            static (reply, state) =>
            {
                var (runtime, actor, call, pins) = ((RayRuntime, ActorId, ActorCall, ObjectId[]?))state!;
                runtime.OnCallReply(actor, call, 0, reply.Result, pins);
            },
            (this, actor, call, pins), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return true;
    }

    /// <summary>
    /// Sends attempt <paramref name="attempt"/> of a call with its owned ref arguments resolved (the actor
    /// cannot read objects this process never published), once those not ready yet are; a call whose attempt
    /// moved on meanwhile (parked, or failed) is not sent by this path.
    /// </summary>
    public void ResendCall(ActorId actor, ActorCall call, int attempt) => ResolveAndSend(actor, call, attempt, grain: null);

    private void ResolveAndSend(ActorId actor, ActorCall call, int attempt, IActorGrain? grain)
    {
        var args = ResolveOwnedArguments(call.Args, out var pending);
        if (pending is null)
        {
            SendCall(actor, args == call.Args ? call : call with { Args = args }, attempt, grain);
            return;
        }

        SendWhenResolved(actor, call, attempt, grain, pending);
    }

    // Its own method: a lambda in ResolveAndSend would allocate its closure on every call, pending or not.
    private void SendWhenResolved(ActorId actor, ActorCall call, int attempt, IActorGrain? grain, Task pending) =>
        _ = pending.ContinueWith(
            _ =>
            {
                if (InFlight.AttemptOf(call.CallId) == attempt)
                {
                    SendCall(actor, call with { Args = ResolveOwnedArguments(call.Args, out var _) }, attempt, grain);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Sends (or sends again, on <paramref name="attempt"/>) a call to its actor.</summary>
    public void SendCall(ActorId actor, ActorCall call, int attempt, IActorGrain? grain = null)
    {
        if (call.Attempt != attempt)
        {
            call = call with { Attempt = attempt }; // what the state API shows; only sends again pay for the copy
        }

        InFlight.CallSent(call.CallId); // from now on the driver's reconcile may ask the actor about it
        if (LocalScheduler is { } local && local.LocalActors.TryGet(actor, out var mailbox) && mailbox.TryPostLocal(call, this, actor, attempt, pins: null, out var earlier))
        {
            // The actor lives in this process: post to its mailbox, no grain call. Its executor calls back with the
            // reply (OnCallReply) on the thread pool, never on the executor's thread, so a caller that blocks on
            // this actor cannot stall the executor that would answer it.
            earlier?.ContinueWith(
                static (reply, state) =>
                {
                    var (runtime, actor, call, attempt) = ((RayRuntime, ActorId, ActorCall, int))state!;
                    runtime.OnCallReply(actor, call, attempt, reply);
                },
                (this, actor, call, attempt), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            return;
        }

        if (Volatile.Read(ref _creatingCount) > 0 && _placing.TryGetValue(actor, out var placing) && !placing.IsCompleted)
        {
            // Its placement group is not created yet: the call leaves once the actor's node is known.
            SendWhenPlaced(actor, call, attempt, grain, placing);
            return;
        }

        var target = grain ?? Actor(actor);
        string? home = null;
        if ((Volatile.Read(ref _creatingCount) == 0 || !_creating.TryGetValue(actor, out home)) && Batches is { } batches)
        {
            // A driver's call to a placed actor: batched with its others that wait there (the hinted first calls
            // of an actor being created go on their own, so the hint travels with them).
            batches.SendCall(actor, target, call, attempt);
            return;
        }

        var sent = home is not null ? CallWithHint(target, call, home) : target.CallAsync(call);
        sent.ContinueWith(
            static (reply, state) =>
            {
                var (runtime, actor, call, attempt) = ((RayRuntime, ActorId, ActorCall, int))state!;
                runtime.OnCallReply(actor, call, attempt, reply);
            },
            (this, actor, call, attempt), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // The lambdas of SendCall's rare paths live in methods of their own: in SendCall their closure would be
    // allocated on every call.
    private void SendWhenPlaced(ActorId actor, ActorCall call, int attempt, IActorGrain? grain, Task placing) =>
        placing.ContinueWith(_ => SendCall(actor, call, attempt, grain), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    private static Task<ObjectValue> CallWithHint(IActorGrain target, ActorCall call, string home) => WithPlacementHint(home, () => target.CallAsync(call));

    /// <summary>
    /// Sends an actor call again to make its lost result anew (the owner's lineage rebuild of an actor result),
    /// flagged so the actor runs it even if it kept the reply that points at the lost copy.
    /// </summary>
    public void ResendForRebuild(OwnedObjects.ActorLineage lineage)
    {
        LogActorRebuild(_logger, lineage.Call.Name, lineage.Call.CallId);
        InFlight.TrackActorCall(lineage.Actor, lineage.Call, PinArguments(lineage.Call.Args));
        ResolveAndSend(lineage.Actor, lineage.Call, attempt: 0, grain: null);
    }

    /// <summary>Why an actor call's lost result may not be made again by sending the call again; null when it may.</summary>
    private string? ActorRebuildable(OwnedObjects.ActorLineage lineage, int rebuilds) =>
        InFlight.ActorSpecOf(lineage.Actor) is not { } spec
            ? "its actor was not created by this process or is gone for good, so the call cannot be sent again"
            : spec.MaxTaskRetries == 0
                ? $"its actor's MaxTaskRetries = 0 forbids running a call again"
                : spec.MaxTaskRetries > 0 && rebuilds >= spec.MaxTaskRetries
                    ? $"its actor's MaxTaskRetries = {spec.MaxTaskRetries} re-runs are used up"
                    : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The result of '{Name}' ({CallId}) was lost: sending the call again to its actor to make it anew.")]
    private static partial void LogActorRebuild(ILogger logger, string name, Guid callId);

    /// <summary>Delivers a call's reply that came another way than the call's own answer (recovered from its actor).</summary>
    public void CompleteCall(ActorId actor, ActorCall call, int attempt, ObjectValue reply) =>
        OnCallReply(actor, call, attempt, Task.FromResult(reply));

    /// <summary>
    /// A call's reply came from its actor in this process: the result becomes the owner's copy. An untracked call
    /// (<see cref="TryPostToLocalActor"/>) brings its <paramref name="pins"/> back to be released here.
    /// </summary>
    public void OnCallReply(ActorId actor, ActorCall call, int attempt, ObjectValue reply, ObjectId[]? pins)
    {
        var id = new ObjectId(call.CallId, 1);
        InFlight.Finished(call.CallId);
        if (!Owned.Complete(id, reply))
        {
            FreeStored(id, reply); // every ref to it went while the call ran
        }

        foreach (var pin in pins ?? [])
        {
            Owned.Release(pin);
        }
    }

    /// <summary>A call's reply came (or its call failed): the result becomes the owner's copy, or the call is retried or fails.</summary>
    public void OnCallReply(ActorId actor, ActorCall call, int attempt, Task<ObjectValue> reply)
    {
        if (reply.IsCompletedSuccessfully)
        {
            OnCallReply(actor, call, attempt, reply.Result, pins: null);
            return;
        }

        var e = reply.Exception!.GetBaseException();
        if (IsNodeLost(e))
        {
            InFlight.CallLost(call.CallId, attempt, node: null, delivered: e is SiloUnavailableException);
            return;
        }

        LogSubmitFailed(_logger, call.Name, call.CallId, e);
        InFlight.Finished(call.CallId);
        FailReturns(call.CallId, 1, false, RayErrors.FromException(e, call.Name, call.CallId, null));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Creating actor {ClassName} failed; its calls fail with ActorDiedException.")]
    private static partial void LogCreationFailed(ILogger logger, string className, Exception exception);
}
