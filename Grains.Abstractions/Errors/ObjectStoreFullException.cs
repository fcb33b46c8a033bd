namespace RayOrleans;

/// <summary>A node's object store cannot take an object of the requested size.</summary>
public sealed class ObjectStoreFullException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ObjectStoreFullException(string message) : base(message) { }
}
