using Orleans.Configuration;

namespace RayOrleans.Hosting;

/// <summary>
/// How fast a RayOrleans cluster declares a silo dead, set on every node by <c>AddRayNode</c> (a later
/// <c>Configure&lt;ClusterMembershipOptions&gt;</c> overrides it). Every task and actor call lost with a node
/// waits for this verdict before it runs again elsewhere, so it bounds the failover time; Orleans' defaults
/// (5 s probes, 3 missed, probe timeouts stretched up to 4x while the prober itself is slow) take 15-60 s on a
/// loaded machine. A killed silo refuses connections at once, so each probe of it fails at once and the
/// verdict comes after <see cref="MissedProbes"/> probe periods plus a vote: about 5 s here (measured in
/// ChaosTests; docs/fault-tolerance.md). The price of a shorter period is more probe traffic (each silo probes
/// three others every period) and a live silo that stalls for longer than two periods (a long GC pause, a
/// starved machine) being voted dead; it then stops itself, and its work is retried like a crash's.
/// </summary>
public static class FailureDetection
{
    /// <summary>The period between liveness probes of a silo, and each probe's timeout. Orleans' default is 5 s.</summary>
    public static readonly TimeSpan ProbePeriod = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes in a row after which a prober votes a silo dead. Orleans' default is 3.</summary>
    public const int MissedProbes = 2;

    /// <summary>
    /// The longest a probe timeout is stretched while the probing silo itself is degraded (slow to run its own
    /// timers): it keeps a busy prober from voting out a healthy silo. Orleans' default is 4 probe periods.
    /// </summary>
    public static readonly TimeSpan MaxProbeTimeout = TimeSpan.FromSeconds(6);

    /// <summary>
    /// How long, after a silo that crashed is declared dead, Orleans' strongly consistent grain directory keeps its
    /// grains and directory ranges under a lease: none of them can be activated again elsewhere meanwhile, so a silo
    /// voted dead while it still runs has this long to find out and stop its activations before their replacements
    /// start. Orleans derives it as <c>GrainDirectoryOptions.RangeLeaseDuration</c> (30 s by default) minus the
    /// worst-case detection time, <see cref="MaxProbeTimeout"/> × <see cref="MissedProbes"/>, which is 0 with
    /// Orleans' own membership defaults (4 × 5 s × 3 = 60 s) but 18 s with the faster detection above: every grain
    /// of a SIGKILLed silo (directory shards, actors, supervisors) then waited 18 s more before it could live again
    /// (measured in <c>DirectoryRebuildTests</c>: records back 21 s after the kill). One probe period keeps a short
    /// guard for the stalled-silo case above at the cost of 2 s of failover.
    /// </summary>
    public static readonly TimeSpan DirectoryLeaseAfterDeath = ProbePeriod;

    /// <summary>Applies these values (the rest of Orleans' membership options keep their defaults).</summary>
    public static void Apply(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = ProbePeriod;
        options.NumMissedProbesLimit = MissedProbes;
        options.MaxProbeTimeout = MaxProbeTimeout;
    }

    /// <summary>
    /// Sets the grain directory's lease so that a crashed silo's grains can live again <see cref="DirectoryLeaseAfterDeath"/>
    /// after it is declared dead (Orleans subtracts the worst-case detection time from <c>RangeLeaseDuration</c>).
    /// </summary>
    public static void Apply(GrainDirectoryOptions options) =>
        options.RangeLeaseDuration = MaxProbeTimeout * MissedProbes + DirectoryLeaseAfterDeath;
}
