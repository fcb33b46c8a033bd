using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>
/// A kind of worker node the autoscaler may start (Ray's <c>available_node_types</c> entry): what one node of it
/// offers, and how few and how many of it the cluster keeps.
/// </summary>
public sealed record NodeType
{
    /// <summary>The type's name (for example <c>cpu-2</c>), as providers and the status name it.</summary>
    public required string Name { get; init; }

    /// <summary>What one node of this type offers (<c>{"CPU": 2}</c>, <c>{"CPU": 8, "GPU": 1}</c>).</summary>
    public required ResourceSet Resources { get; init; }

    /// <summary>Nodes of this type kept however idle. Default 0.</summary>
    public int MinWorkers { get; init; }

    /// <summary>Nodes of this type at most. Default 10.</summary>
    public int MaxWorkers { get; init; } = 10;

    /// <summary>Checks the values; throws naming the type and what is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("A node type needs a name.");
        }

        if (Resources.Amounts.Count == 0 || Resources.Amounts.Any(a => !double.IsFinite(a.Value) || a.Value < 0))
        {
            throw new ArgumentException($"Node type '{Name}' must offer some resources, each a finite amount of 0 or more; got {Resources}.");
        }

        if (MinWorkers < 0 || MaxWorkers < MinWorkers)
        {
            throw new ArgumentException($"Node type '{Name}': MinWorkers ({MinWorkers}) must be 0 or more and at most MaxWorkers ({MaxWorkers}).");
        }
    }
}
