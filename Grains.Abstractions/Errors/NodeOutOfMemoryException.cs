using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>
/// The task was cancelled by its node's memory monitor (memory use above the node's threshold) on every try
/// its <c>MaxRetries</c> allowed. Ray's OutOfMemoryError. The message names the node and its memory use.
/// </summary>
public sealed class NodeOutOfMemoryException : RayException
{
    /// <summary>Creates the exception from a stored error.</summary>
    public NodeOutOfMemoryException(RayErrorInfo error) : base(error.Message) => Error = error;

    /// <summary>The recorded failure.</summary>
    public RayErrorInfo Error { get; }
}
