using Orleans.Concurrency;
namespace RayOrleans.Grains;

/// <summary>Named actors of one namespace (the key): name to actor id.</summary>
public interface IActorRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers <paramref name="name"/>; false when another live actor already holds it.</summary>
    Task<bool> TryRegisterAsync(string name, ActorId actor, string className);

    /// <summary>The actor registered under <paramref name="name"/>, with its class name; null when none.</summary>
    Task<(ActorId Actor, string ClassName)?> LookupAsync(string name);

    /// <summary>Drops the name if it still points at <paramref name="actor"/>.</summary>
    Task UnregisterAsync(string name, ActorId actor);
}
