namespace RayOrleans;

/// <summary>What <see cref="Ray.WaitAsync{TRef}"/> returns: the refs that are ready and those that are not.</summary>
public sealed record WaitResult<TRef>(IReadOnlyList<TRef> Ready, IReadOnlyList<TRef> NotReady) where TRef : ObjectRef;
