namespace RayOrleans;

/// <summary>An object's value is gone and cannot be rebuilt.</summary>
public sealed class ObjectLostException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ObjectLostException(ObjectId id, string reason) : base($"Object {id} is lost: {reason}")
    {
        ObjectId = id;
        Reason = reason;
    }

    /// <summary>The lost object.</summary>
    public ObjectId ObjectId { get; }

    /// <summary>Why it is lost (the message without the object's id).</summary>
    public string Reason { get; }
}
