namespace RayOrleans.Autoscaler;

/// <summary>
/// The node labels by which the autoscaler knows its nodes: a provider starts each node with them (the local
/// provider through <c>--labels</c>; in Kubernetes the node host sets the instance from <c>POD_NAME</c>), and the
/// nodes' reports carry them back, so a report is matched to the instance the provider started.
/// </summary>
public static class AutoscalerLabels
{
    /// <summary>The node's type (<c>cpu-2</c>).</summary>
    public const string NodeType = "rayorleans.io/node-type";

    /// <summary>The provider's name for the node: a local process's instance id, a pod's name.</summary>
    public const string Instance = "rayorleans.io/instance";
}
