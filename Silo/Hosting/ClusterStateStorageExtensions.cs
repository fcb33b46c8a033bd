using Orleans.Serialization;
using Orleans.Storage;
using RayOrleans.Hosting;
using StackExchange.Redis;

namespace RayOrleans.Silo.Hosting;

/// <summary>Keeps the cluster's durable records (placement groups, actor supervision) in Redis (<see cref="ClusterStateStorageOptions"/>).</summary>
internal static class ClusterStateStorageExtensions
{
    /// <summary>
    /// Registers the Redis grain storage of the cluster's durable records, on the Redis that holds the membership
    /// table: a placement group or a restartable actor's record then outlives any silo, as Ray's GCS keeps its
    /// placement group and actor tables in Redis. Call before
    /// <c>AddRayNode</c>, which otherwise registers memory storage under the same name.
    /// </summary>
    public static ISiloBuilder UseRedisClusterStateStorage(this ISiloBuilder silo, ConfigurationOptions redis, ClusterStateStorageOptions? options = null)
    {
        options ??= new ClusterStateStorageOptions();
        options.Validate();
        return silo.AddRedisGrainStorage(ClusterStateStorageOptions.ProviderName, o => o.Configure<Serializer>((storage, serializer) =>
        {
            storage.ConfigurationOptions = redis.Clone();
            // A removed group's (or dead actor's) record is deleted, not left behind as an empty value.
            storage.DeleteStateOnClear = true;
            storage.EntryExpiry = options.EntryExpiry;
            // The records hold RayOrleans' own [GenerateSerializer] types: the Orleans serializer writes them
            // with version tolerance and needs no JSON mapping of their required members.
            storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
    }
}
