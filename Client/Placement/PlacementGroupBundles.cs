using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>Checks a placement group's bundles at the call site, naming the bundle and the value that is wrong.</summary>
internal static class PlacementGroupBundles
{
    public static ResourceSet[] Validate(IReadOnlyList<Dictionary<string, double>> bundles)
    {
        ArgumentNullException.ThrowIfNull(bundles);
        if (bundles.Count == 0)
        {
            throw new ArgumentException("A placement group needs at least one bundle.", nameof(bundles));
        }

        var sets = new ResourceSet[bundles.Count];
        for (var i = 0; i < bundles.Count; i++)
        {
            var bundle = bundles[i] ?? throw new ArgumentException($"Bundle {i} is null.", nameof(bundles));
            ResourceSet set;
            try
            {
                set = new ResourceSet(bundle);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Bundle {i}: {e.Message}", nameof(bundles), e);
            }

            if (set.Amounts.Count == 0)
            {
                throw new ArgumentException($"Bundle {i} is empty: each bundle must reserve some resource (for example {{\"CPU\": 1}}).", nameof(bundles));
            }

            var gpus = set[ResourceSet.Gpu];
            if (gpus > 1 && gpus != Math.Floor(gpus))
            {
                throw new ArgumentException($"Bundle {i}: GPU {gpus} above 1 must be a whole number.", nameof(bundles));
            }

            sets[i] = set;
        }

        return sets;
    }

    public static PlacementGroupStrategy Validate(PlacementGroupStrategy strategy) =>
        Enum.IsDefined(strategy) ? strategy : throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown placement group strategy.");
}
