namespace RayOrleans.Hosting;

/// <summary>
/// Where the cluster's durable records are kept, written on every change so that they outlive the silo their
/// grain lived on: placement groups (spec, state, bundle nodes) and their names, restartable actors' supervision
/// records (spec, node, restarts), and the recovery index that wakes both when a node dies. The node host
/// (<c>Silo/</c>) keeps them in Redis when it uses Redis clustering; any other silo made a node by
/// <c>AddRayNode</c> keeps them in Orleans' memory grain storage, unless a grain storage named
/// <see cref="ProviderName"/> was registered before <c>AddRayNode</c>. Memory storage lives in a few storage
/// grains spread over the silos: a record is lost when the silo holding its storage grain dies, so only the
/// Redis one makes these records survive node deaths (embedded clusters are one silo, which takes them with it anyway).
/// </summary>
public sealed class ClusterStateStorageOptions
{
    /// <summary>The name of the grain storage provider the cluster's durable records use.</summary>
    public const string ProviderName = "ray-cluster-state";

    /// <summary>
    /// How long Redis keeps a record after its last write. Default: null, kept until its group is removed or its
    /// actor has died (which delete it). Set it to bound what clusters torn down without removing them leave in a
    /// Redis that outlives them; it must then exceed any group's or actor's lifetime, since a record is not
    /// rewritten while nothing happens to it. When set, at least one minute.
    /// </summary>
    public TimeSpan? EntryExpiry { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (EntryExpiry is { } expiry && expiry < TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(EntryExpiry), expiry, "EntryExpiry must be at least one minute (or null: kept until removed).");
        }
    }
}
