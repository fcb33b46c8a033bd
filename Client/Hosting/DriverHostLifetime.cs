using Microsoft.Extensions.Hosting;

namespace RayOrleans.Hosting;

/// <summary>
/// The lifetime of the host <c>Ray.InitAsync</c> makes inside a driver: none of its own. The default console
/// lifetime takes over SIGTERM and Ctrl+C and waits for the host to be stopped, which a driver's code never
/// does, so a driver sent SIGTERM (a stopped job) would not exit. Signals are left to the application.
/// </summary>
internal sealed class DriverHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
