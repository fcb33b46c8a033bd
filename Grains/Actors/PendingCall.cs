using RayOrleans.Messages;

namespace RayOrleans.Actors;

/// <summary>An actor call waiting for its turn or running, with the reply its caller's grain call is waiting on.</summary>
internal sealed class PendingCall(ActorCall call)
{
    public ActorCall Call { get; } = call;

    /// <summary>Completed inline: its one awaiter is the grain call's reply, which Orleans posts to the grain's scheduler.</summary>
    public TaskCompletionSource<ObjectValue> Reply { get; } = new();
}
