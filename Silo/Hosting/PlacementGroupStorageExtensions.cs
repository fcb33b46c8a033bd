using Orleans.Serialization;
using Orleans.Storage;
using RayOrleans.Hosting;
using StackExchange.Redis;

namespace RayOrleans.Silo.Hosting;

/// <summary>Keeps placement group records in Redis (<see cref="PlacementGroupStorageOptions"/>).</summary>
internal static class PlacementGroupStorageExtensions
{
    /// <summary>
    /// Registers the Redis grain storage placement groups use, on the Redis that holds the membership table: a
    /// group then outlives any silo, as Ray's GCS keeps its placement group table in Redis. Call before
    /// <c>AddRayNode</c>, which otherwise registers memory storage under the same name.
    /// </summary>
    public static ISiloBuilder UseRedisPlacementGroupStorage(this ISiloBuilder silo, ConfigurationOptions redis, PlacementGroupStorageOptions? options = null)
    {
        options ??= new PlacementGroupStorageOptions();
        options.Validate();
        return silo.AddRedisGrainStorage(PlacementGroupStorageOptions.ProviderName, o => o.Configure<Serializer>((storage, serializer) =>
        {
            storage.ConfigurationOptions = redis.Clone();
            // A removed group's record is deleted, not left behind as an empty value.
            storage.DeleteStateOnClear = true;
            storage.EntryExpiry = options.EntryExpiry;
            // The records hold RayOrleans' own [GenerateSerializer] types: the Orleans serializer writes them
            // with version tolerance and needs no JSON mapping of their required members.
            storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
    }
}
