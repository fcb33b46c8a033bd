namespace RayOrleans.Autoscaler.Providers;

/// <summary>One node a provider started or manages.</summary>
/// <param name="InstanceId">The provider's name for it: the value of its <see cref="AutoscalerLabels.Instance"/> label.</param>
/// <param name="NodeType">Its node type's name.</param>
/// <param name="Stopping">Asked to stop and not gone yet.</param>
/// <param name="Failure">Why it failed on its own (a process that exited, a pod that failed); null while it is fine.</param>
internal sealed record ProviderInstance(string InstanceId, string NodeType, bool Stopping = false, string? Failure = null);
