namespace RayOrleans.Hosting;

/// <summary>
/// Where placement group records are kept (each group's spec, state and bundle nodes, written on every change),
/// so that a group outlives the silo its grain lived on. The node host (<c>Silo/</c>) keeps them in Redis when
/// it uses Redis clustering; any other silo made a node by <c>AddRayNode</c> keeps them in Orleans' memory grain
/// storage, unless a grain storage named <see cref="ProviderName"/> was registered before <c>AddRayNode</c>.
/// Memory storage lives in a few storage grains spread over the silos: a record is lost when the silo holding
/// its storage grain dies, so only the Redis one makes groups survive node deaths (embedded clusters are one
/// silo, which takes its groups with it anyway).
/// </summary>
public sealed class PlacementGroupStorageOptions
{
    /// <summary>The name of the grain storage provider placement groups use.</summary>
    public const string ProviderName = "ray-placement-groups";

    /// <summary>
    /// How long Redis keeps a record after its last write. Default: null, kept until the group is removed
    /// (removal deletes it). Set it to bound what clusters torn down without removing their groups leave in a
    /// Redis that outlives them; it must then exceed any group's lifetime, since a created group is not
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
