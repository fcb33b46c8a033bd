using RayOrleans.Node;

namespace RayOrleans.Telemetry;

/// <summary>
/// Puts this silo's node into <see cref="RayMetrics"/>' observations while the silo is active, and takes it out
/// when the silo stops, so a stopped node's last values are not reported as current.
/// </summary>
internal sealed class NodeMetrics(LocalScheduler scheduler) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(NodeMetrics), ServiceLifecycleStage.Active,
            _ =>
            {
                RayMetrics.Register(scheduler);
                return Task.CompletedTask;
            },
            _ =>
            {
                RayMetrics.Unregister(scheduler);
                return Task.CompletedTask;
            });
}
