using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using RayOrleans.Node;
using RayOrleans.Placement;
using RayOrleans.Runtime;

namespace RayOrleans.Hosting;

/// <summary>Makes an Orleans silo a RayOrleans node.</summary>
public static class RaySiloBuilderExtensions
{
    /// <summary>
    /// Adds the node services (task queue, resources, object store, cluster reporting) and the placement
    /// directors RayOrleans grains use.
    /// </summary>
    public static ISiloBuilder AddRayNode(this ISiloBuilder builder, Action<NodeOptions>? configureNode = null, Action<RuntimeOptions>? configureRuntime = null)
    {
        var services = builder.Services;

        // Grains defined in user code (its code directories) are hosted too: their Orleans metadata is added.
        var declared = new NodeOptions();
        configureNode?.Invoke(declared);
        if (declared.CodeDirectories.Count > 0)
        {
            UserCodeResolver.Add(declared.CodeDirectories);
            var parts = UserCodeResolver.LoadOrleansAssemblies(declared.CodeDirectories);
            if (parts.Count > 0)
            {
                services.AddSerializer(serializer =>
                {
                    foreach (var part in parts)
                    {
                        serializer.AddAssembly(part);
                    }
                });
            }
        }

        services.Configure<ClusterMembershipOptions>(FailureDetection.Apply);
        services.Configure<GrainDirectoryOptions>(FailureDetection.Apply);
        // What tasks print goes to their job's driver (Ray's log_to_driver); the node's own output is unchanged.
        Logs.TaskOutput.Install();
        // The strongly consistent grain directory: the default one loses the entries its crashed silo held,
        // and a call can then start a second activation of a grain that lives on; for an actor that is a
        // second, never-constructed copy that its calls would wait on.
#pragma warning disable ORLEANSEXP003 // evaluation API in Orleans 10.4; chosen for the guarantee above (docs/fault-tolerance.md)
        builder.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        services.AddOptions<NodeOptions>().Configure(o => configureNode?.Invoke(o));
        services.AddOptions<RuntimeOptions>().Configure(o => configureRuntime?.Invoke(o)).Validate(o =>
        {
            o.Validate();
            return true;
        });
        services.AddSingleton(sp =>
        {
            var node = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<NodeOptions>>().Value;
            UserCodeResolver.Add(node.CodeDirectories);
            return new NodeResources(node.ToResourceSet(), node.ResolveGpuIds());
        });
        services.AddSingleton<NodeObjectStore>();
        services.AddSingleton<NodeRuntime>();
        services.AddSingleton<LocalScheduler>();
        services.AddSingleton<NodeReporter>();
        // Restartable actors are restarted by the cluster when their node dies (Actors/ActorSupervisorGrain.cs).
        services.AddSingleton<Actors.ActorSupervision>();
        services.AddSingleton<INodeDeathHandler>(sp => sp.GetRequiredService<Actors.ActorSupervision>());
        // Placement groups and restartable actors' supervisors are told of node deaths through a durable index, so
        // that one whose grain died with the node is woken from its record (Recovery/RecoveryIndexFailover.cs).
        services.AddSingleton<Recovery.RecoveryIndexFailover>();
        services.AddSingleton<INodeDeathHandler>(sp => sp.GetRequiredService<Recovery.RecoveryIndexFailover>());
        // One membership watcher tells the handlers above of each silo declared dead (Node/NodeDeaths.cs).
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, NodeDeaths>();
        if (!services.Any(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, ClusterStateStorageOptions.ProviderName)))
        {
            // No durable store was registered (the node host registers Redis with Redis clustering): memory, which
            // keeps groups across a restart of their grain but not across the death of the silo holding the record.
            builder.AddMemoryGrainStorage(ClusterStateStorageOptions.ProviderName, o => o.Configure<Serializer>((options, serializer) =>
                options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
        }

        services.AddSingleton<NodeDrain>();
        services.AddSingleton<TaskReplyBatches>(); // replies of tasks submitted in batches (external drivers)
        services.AddSingleton<ClusterStateActivations>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<NodeReporter>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Telemetry.NodeMetrics>();
        // Grain calls join the caller's trace (Orleans' spans under RayOrleans' own, docs/telemetry.md) when asked,
        // or when tracing is configured: the propagation filters cost every grain call, listener or not.
        if (declared.OrleansTracing ?? Telemetry.RayTelemetry.OrleansTracingByEnvironment())
        {
            builder.AddActivityPropagation();
        }
        services.AddPlacementDirector<NodePlacementStrategy, NodePlacementDirector>();
        services.AddPlacementDirector<LeastLoadedPlacementStrategy, LeastLoadedPlacementDirector>();
        services.AddPlacementDirector<ClusterStatePlacementStrategy, ClusterStatePlacementDirector>();
        return builder;
    }
}
