using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>What one round of the autoscaler decided, with its reasons (shown in the status and the log).</summary>
public sealed record ScalePlan
{
    /// <summary>Nodes to start, by node type name.</summary>
    public required IReadOnlyDictionary<string, int> Launch { get; init; }

    /// <summary>Demands no node type can ever hold: reported, never a reason to start anything.</summary>
    public required IReadOnlyList<DemandSummary> Infeasible { get; init; }

    /// <summary>Demands that would need more nodes than the types' maximums (or this round's launch limit) allow.</summary>
    public required IReadOnlyList<DemandSummary> Unfulfilled { get; init; }

    /// <summary>Why, in words: one line per decision.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>Whether the plan starts nothing.</summary>
    public bool IsEmpty => Launch.Count == 0;
}
