using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>The actor is dead (killed, failed to construct, or out of restarts); the call did not run.</summary>
public sealed class ActorDiedException : RayException
{
    /// <summary>Creates the exception from a stored error.</summary>
    public ActorDiedException(RayErrorInfo error) : base(error.Message) => Error = error;

    /// <summary>The recorded failure.</summary>
    public RayErrorInfo Error { get; }
}
