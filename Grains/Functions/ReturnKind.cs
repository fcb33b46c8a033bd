namespace RayOrleans.Functions;

/// <summary>How a remote function hands back its result.</summary>
internal enum ReturnKind
{
    /// <summary>Returns the value directly.</summary>
    Value,
    /// <summary>Returns <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c>.</summary>
    Awaitable,
    /// <summary>Returns <c>IAsyncEnumerable&lt;T&gt;</c>: a streaming generator.</summary>
    Stream,
}
