namespace RayOrleans;

/// <summary>A value could not be serialized or deserialized as the type it was declared with.</summary>
public sealed class RaySerializationException : RayException
{
    /// <summary>Creates the exception.</summary>
    public RaySerializationException(Type type, Exception inner)
        : base($"A value of type {type} cannot be serialized by RayOrleans: {inner.Message}", inner) => ValueType = type;

    /// <summary>The declared type of the value.</summary>
    public Type ValueType { get; }
}
