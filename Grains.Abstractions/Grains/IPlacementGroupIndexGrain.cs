namespace RayOrleans.Grains;

/// <summary>
/// One shard (the key) of the durable list of live placement groups. When a node
/// dies every group is told, so a group whose own silo died with it is woken from its stored record without
/// waiting for a driver to call it.
/// </summary>
public interface IPlacementGroupIndexGrain : IGrainWithIntegerKey
{
    /// <summary>Lists <paramref name="group"/> (once it is created or pending).</summary>
    Task AddAsync(Guid group);

    /// <summary>Drops <paramref name="group"/> (once it is removed).</summary>
    Task RemoveAsync(Guid group);

    /// <summary>The groups this shard lists (created, pending or rescheduling).</summary>
    Task<Guid[]> ListAsync();

    /// <summary>Tells every group of the shard that membership declared <paramref name="node"/> dead (once per node).</summary>
    Task NodeDiedAsync(string node);
}
