using RayOrleans.Messages;

namespace RayOrleans.Objects;

/// <summary>Records of objects whose primary copy a draining node moved to another node.</summary>
internal static class ObjectMoves
{
    /// <summary><paramref name="value"/> with its copy at <paramref name="to"/>; the rest (size, producer, contained refs) as it was.</summary>
    public static ObjectValue Relocated(ObjectValue value, string to) => new()
    {
        Inline = value.Inline, Location = to, Size = value.Size, Error = value.Error, ProducerNode = value.ProducerNode,
        GeneratorCount = value.GeneratorCount, Refs = value.Refs,
    };
}
