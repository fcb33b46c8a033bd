namespace RayOrleans.Silo.Jobs;

/// <summary>A job submitted while the head is stopping its drivers to shut down; the HTTP API answers 503.</summary>
internal sealed class HeadShuttingDownException() : Exception("The head is shutting down; it takes no new jobs.");
