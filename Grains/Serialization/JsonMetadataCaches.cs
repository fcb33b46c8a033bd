using System.Reflection;
using System.Text.Json;

namespace RayOrleans.Serialization;

/// <summary>
/// Lets go of what System.Text.Json keeps process-wide about the types it has seen. Its reflection-emit member
/// accessors (constructors, property getters) sit in a static cache that is pruned only when later metadata is
/// built, so after a job's code is unloaded they could keep it loaded indefinitely. The runtime clears these
/// caches for hot reload through <c>JsonSerializerOptionsUpdateHandler.ClearCache</c>; an unload calls the same
/// (every options instance then rebuilds its metadata once, on next use). If a future System.Text.Json drops
/// that method, this does nothing and unloading relies on its own pruning.
/// </summary>
internal static class JsonMetadataCaches
{
    private static readonly MethodInfo? ClearCache = typeof(JsonSerializer).Assembly
        .GetType("System.Text.Json.JsonSerializerOptionsUpdateHandler")
        ?.GetMethod("ClearCache", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])]);

    public static void Clear() => ClearCache?.Invoke(null, [null]);
}
