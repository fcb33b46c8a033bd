namespace RayOrleans.Grains;

/// <summary>Response timeouts of grain calls that stay open while user code runs.</summary>
public static class RayTimeouts
{
    /// <summary>
    /// For calls that reply when a task or actor method has run (about a year): a task may run for days,
    /// so the call must not time out on its own. A node that dies fails the call through Orleans membership
    /// (and the owner's in-flight sweep), not through this timeout.
    /// </summary>
    public const string LongCall = "365.00:00:00";
}
