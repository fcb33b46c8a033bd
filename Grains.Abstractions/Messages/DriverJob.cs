namespace RayOrleans.Messages;

/// <summary>
/// A driver connected to the cluster, as Ray lists DRIVER jobs: its job id, where it runs, and whether it is
/// still there. A driver that stops sending heartbeats is declared lost, and its non-detached actors are
/// killed (as Ray does when a driver exits).
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.DriverJob")]
public sealed record DriverJob
{
    /// <summary>The driver's job id.</summary>
    [Id(0)] public required string JobId { get; init; }

    /// <summary>RUNNING, SUCCEEDED (exited cleanly), FAILED (lost: no heartbeat) or STOPPED (ended from outside).</summary>
    [Id(1)] public required string Status { get; init; }

    /// <summary>The driver's host name and process id.</summary>
    [Id(2)] public string? Host { get; init; }

    /// <summary>The driver's process id.</summary>
    [Id(3)] public int Pid { get; init; }

    /// <summary>The driver process's command line.</summary>
    [Id(4)] public string? Entrypoint { get; init; }

    /// <summary>When it connected (UTC).</summary>
    [Id(5)] public DateTime StartTime { get; init; }

    /// <summary>When it exited or was declared lost (UTC).</summary>
    [Id(6)] public DateTime? EndTime { get; init; }

    /// <summary>Why it ended, when it did not exit cleanly.</summary>
    [Id(7)] public string? Message { get; init; }

    /// <summary>
    /// How to reach the driver's runtime as an object owner: a draining node tells it where the objects it owns have
    /// moved. Null for a driver that could not make one.
    /// </summary>
    [Id(8), System.Text.Json.Serialization.JsonIgnore] public Grains.IObjectOwner? Owner { get; init; }
}
