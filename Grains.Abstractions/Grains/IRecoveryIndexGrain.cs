namespace RayOrleans.Grains;

/// <summary>
/// One shard of a durable list of grains that must act when a node dies, whether or not they are active: the
/// key is the shard number, the key extension the kind of grain listed (<c>RecoveryKinds</c>). When a node
/// dies every listed grain is told, so one whose own silo died with it is woken from its stored record without
/// waiting for a driver to call it.
/// </summary>
public interface IRecoveryIndexGrain : IGrainWithIntegerCompoundKey
{
    /// <summary>Lists <paramref name="id"/> (a placement group once it is created or pending; a restartable actor once supervised).</summary>
    Task AddAsync(Guid id);

    /// <summary>Drops <paramref name="id"/> (a placement group once removed; an actor once dead for good).</summary>
    Task RemoveAsync(Guid id);

    /// <summary>The ids this shard lists.</summary>
    Task<Guid[]> ListAsync();

    /// <summary>Tells every grain of the shard that membership declared <paramref name="node"/> dead (once per node).</summary>
    Task NodeDiedAsync(string node);
}
