using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>The owner of actor calls in the actor's own process: takes each call's reply directly from its mailbox.</summary>
internal interface IActorCallOwner
{
    /// <summary>
    /// Attempt <paramref name="attempt"/> of <paramref name="call"/> was answered with <paramref name="reply"/>;
    /// <paramref name="pins"/> are the objects its arguments held, when the owner left them with the call.
    /// </summary>
    void OnCallReply(ActorId actor, ActorCall call, int attempt, ObjectValue reply, ObjectId[]? pins);
}
