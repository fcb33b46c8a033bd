using RayOrleans.Silo.Jobs;

namespace RayOrleans.Silo.Hosting;

/// <summary>Adds job submission (Ray's job server: packages, drivers, logs) to the node host.</summary>
internal static class JobHostExtensions
{
    /// <summary>
    /// Registers the package store and the <see cref="JobManager"/> as a hosted service. Call after
    /// <see cref="NodeHostExtensions.AddRayNodeHost"/>: hosted services stop in reverse order, so the
    /// drivers are stopped while their cluster is still up.
    /// </summary>
    public static WebApplicationBuilder AddRayJobs(this WebApplicationBuilder builder, JobOptions options)
    {
        options.Validate();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<PackageStore>();
        builder.Services.AddSingleton<JobManager>();
        builder.Services.AddHostedService(services => services.GetRequiredService<JobManager>());
        return builder;
    }
}
