namespace RayOrleans.Messages;

/// <summary>
/// An actor's answer to a caller asking about its unanswered calls: which it still holds (waiting or
/// running), and the replies of those it already answered while it still keeps them (a reply lost on its way
/// back is delivered from here, so the call does not run twice).
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.HeldCalls")]
public sealed class HeldCalls
{
    /// <summary>Calls waiting for their turn or running.</summary>
    [Id(0)] public required Guid[] Held { get; init; }

    /// <summary>Calls already answered, with the answer (the actor keeps its most recent ones).</summary>
    [Id(1)] public required Dictionary<Guid, ObjectValue> Replies { get; init; }

    /// <summary>
    /// Calls that never reached the actor: their caller's order has not come to them yet (sending them again
    /// is not a retry, since they have not run).
    /// </summary>
    [Id(2)] public Guid[] NotArrived { get; init; } = [];

    /// <summary>No actor lives in the activation asked (never created there, or dead): the rest says nothing.</summary>
    [Id(3)] public bool Unknown { get; init; }

    /// <summary>The actor's restart count: the answer is about calls sent to this incarnation only.</summary>
    [Id(4)] public int Incarnation { get; init; }

    /// <summary>
    /// How long this incarnation has lived, measured by the actor: a caller that does not know which incarnation
    /// its call went to (it did not create the actor) learns that the call went to an earlier one, lost with its
    /// node, when this is shorter than the time since it sent the call.
    /// </summary>
    [Id(5)] public TimeSpan Age { get; init; }

    /// <summary>The actor asked is dead (with <see cref="Unknown"/>): a call it never answered will not be answered.</summary>
    [Id(6)] public bool Dead { get; init; }
}
