using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RayOrleans.Autoscaler.Providers;

namespace RayOrleans.Autoscaler.Hosting;

/// <summary>Adds the autoscaler to a host that has Orleans' grain factory (a silo, or a client host).</summary>
public static class AutoscalerServiceCollectionExtensions
{
    /// <summary>
    /// Runs the autoscaler in this host: every <see cref="AutoscalerOptions.PollInterval"/> a round reads the cluster's
    /// demands and resource requests, starts and stops nodes through the provider <paramref name="options"/> names,
    /// and publishes its state for the status.
    /// </summary>
    /// <param name="services">The host's services; they must provide <see cref="IGrainFactory"/>.</param>
    /// <param name="options">Node types, timings and provider; validated here.</param>
    /// <param name="localProcess">How to start worker silos; required with the <c>LocalProcess</c> provider.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static IServiceCollection AddRayAutoscaler(this IServiceCollection services, AutoscalerOptions options, LocalProcessOptions? localProcess = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Provider == ProviderNames.LocalProcess)
        {
            (localProcess ?? throw new ArgumentException("The LocalProcess provider needs LocalProcessOptions (the node host to start).", nameof(localProcess))).Validate();
        }

        services.AddSingleton(options);
        services.AddSingleton<INodeProvider>(sp => options.Provider == ProviderNames.LocalProcess
            ? new LocalProcessProvider(localProcess!, sp.GetRequiredService<ILogger<LocalProcessProvider>>())
            : new KubernetesProvider(KubernetesProvider.CreateClient(options.Kubernetes), options, sp.GetRequiredService<ILogger<KubernetesProvider>>(), ownsClient: true));
        services.AddSingleton<IAutoscalerCluster>(sp => new GrainAutoscalerCluster(sp.GetRequiredService<IGrainFactory>()));
        services.AddSingleton<ClusterAutoscaler>();
        services.AddHostedService<AutoscalerService>();
        return services;
    }
}
