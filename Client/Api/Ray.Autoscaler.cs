using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans;

public sealed partial class Ray
{
    /// <summary>
    /// Asks the autoscaler to make the cluster able to hold <paramref name="numCpus"/> one-CPU bundles and every
    /// bundle of <paramref name="bundles"/> at once, whatever runs now (Ray's
    /// <c>ray.autoscaler.sdk.request_resources(num_cpus=, bundles=)</c>). Nodes are added right away, before any
    /// work asks for them, and are kept while the request stands (they are not idle-removed below it). A later
    /// call replaces the earlier one, from whichever driver; a call with nothing (or zero CPUs and no bundles)
    /// clears it. Without an autoscaler the request is stored and has no effect.
    /// </summary>
    /// <param name="numCpus">How many CPUs, as that many <c>{"CPU": 1}</c> bundles; a whole number, 0 or more.</param>
    /// <param name="bundles">Resource bundles, such as <c>[{"CPU": 4, "GPU": 1}]</c>, each non-empty.</param>
    /// <exception cref="ArgumentException">A bundle is empty or has a negative, non-finite or unnamed amount.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numCpus"/> is negative or too large.</exception>
    public Task RequestResourcesAsync(int numCpus = 0, IReadOnlyList<Dictionary<string, double>>? bundles = null)
    {
        // Ray expands num_cpus into single-CPU bundles too; the cap keeps a typo from becoming a million-entry message.
        ArgumentOutOfRangeException.ThrowIfNegative(numCpus);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numCpus, 100_000);
        var requested = new List<ResourceSet>(numCpus + (bundles?.Count ?? 0));
        var cpu = new ResourceSet(new Dictionary<string, double> { [ResourceSet.Cpu] = 1 });
        requested.AddRange(Enumerable.Repeat(cpu, numCpus));
        if (bundles is { Count: > 0 })
        {
            requested.AddRange(PlacementGroupBundles.Validate(bundles));
        }

        return TransientRetry.ReadAsync(async () =>
        {
            await Runtime.Grains.GetGrain<Grains.IAutoscalerStateGrain>(0).RequestResourcesAsync([.. requested]).ConfigureAwait(false);
            return true;
        });
    }
}
