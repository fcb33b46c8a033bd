namespace RayOrleans;

/// <summary>Base of every failure RayOrleans raises on purpose.</summary>
public abstract class RayException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected RayException(string message, Exception? inner = null) : base(message, inner) { }
}
