using RayOrleans.Grains;

namespace RayOrleans.Actors;

/// <summary>Named actors of one namespace.</summary>
[KeepAlive]
internal sealed class ActorRegistryGrain : Grain, IActorRegistryGrain
{
    private readonly Dictionary<string, (ActorId Actor, string ClassName)> _names = new(StringComparer.Ordinal);

    public async Task<bool> TryRegisterAsync(string name, ActorId actor, string className)
    {
        if (_names.TryGetValue(name, out var existing) && existing.Actor != actor)
        {
            // A name held by a dead actor is free again, as in Ray.
            var info = await GrainFactory.GetGrain<IActorGrain>(existing.Actor.Value).GetInfoAsync();
            if (info.State != "DEAD")
            {
                return false;
            }
        }

        _names[name] = (actor, className);
        return true;
    }

    public Task<(ActorId Actor, string ClassName)?> LookupAsync(string name) =>
        Task.FromResult(_names.TryGetValue(name, out var entry) ? entry : ((ActorId, string)?)null);

    public Task UnregisterAsync(string name, ActorId actor)
    {
        if (_names.TryGetValue(name, out var entry) && entry.Actor == actor)
        {
            _names.Remove(name);
        }

        return Task.CompletedTask;
    }
}
