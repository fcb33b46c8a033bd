using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>
/// The call could not be confirmed: the connection that carried it failed (a gateway or network loss) while
/// the actor itself stayed alive, and the call may not be sent again (its actor's <c>MaxTaskRetries</c> is 0),
/// since it may already have run. The actor is still there; later calls can succeed. Ray's ActorUnavailableError.
/// </summary>
public sealed class ActorUnavailableException : RayException
{
    /// <summary>Creates the exception from a stored error.</summary>
    public ActorUnavailableException(RayErrorInfo error) : base(error.Message) => Error = error;

    /// <summary>The recorded failure.</summary>
    public RayErrorInfo Error { get; }
}
