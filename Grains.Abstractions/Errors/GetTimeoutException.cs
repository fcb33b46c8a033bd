namespace RayOrleans;

/// <summary>A <c>Get</c> with a timeout found the object still not ready when the timeout passed.</summary>
public sealed class GetTimeoutException : RayException
{
    /// <summary>Creates the exception.</summary>
    public GetTimeoutException(ObjectId id, TimeSpan timeout)
        : base($"Get timed out after {timeout.TotalSeconds:0.###} s: object {id} is not ready.") => ObjectId = id;

    /// <summary>Creates the exception, saying why the object is not ready (for example, its task is infeasible).</summary>
    public GetTimeoutException(ObjectId id, TimeSpan timeout, string why)
        : base($"Get timed out after {timeout.TotalSeconds:0.###} s: object {id} is not ready: {why}") => ObjectId = id;

    /// <summary>The object that was not ready.</summary>
    public ObjectId ObjectId { get; }
}
