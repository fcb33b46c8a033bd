namespace RayOrleans.Autoscaler.Providers;

/// <summary>
/// Starts and stops worker nodes for the autoscaler (Ray's NodeProvider). The autoscaler decides; a provider only
/// carries out and lists: what it started, each instance's type, and which of them failed on their own. Which
/// instance is which node of the cluster is told by the nodes' <see cref="AutoscalerLabels.Instance"/> label.
/// </summary>
internal interface INodeProvider : IAsyncDisposable
{
    /// <summary>The provider's name, as the status shows it.</summary>
    string Name { get; }

    /// <summary>Every instance it started or manages that has not gone away: starting, running, stopping, or failed.</summary>
    Task<IReadOnlyList<ProviderInstance>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Starts <paramref name="count"/> nodes of <paramref name="type"/>; they show in <see cref="ListAsync"/> at once.</summary>
    Task LaunchAsync(NodeType type, int count, CancellationToken cancellationToken);

    /// <summary>
    /// Stops these instances gracefully (the silo leaves the membership), forcing them after a deadline; a failed
    /// instance is forgotten. They show as stopping until gone.
    /// </summary>
    Task TerminateAsync(IReadOnlyList<ProviderInstance> instances, CancellationToken cancellationToken);
}
