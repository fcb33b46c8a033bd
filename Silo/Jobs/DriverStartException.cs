namespace RayOrleans.Silo.Jobs;

/// <summary>A driver that could not be started (its program not found, not executable); the job fails with this message.</summary>
internal sealed class DriverStartException(string message) : Exception(message);
