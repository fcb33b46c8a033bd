using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>Builds the resource set of a task or actor from its options.</summary>
internal static class ResourceDemand
{
    public static ResourceSet Build(double cpus, double gpus, long memory, IReadOnlyDictionary<string, double>? custom)
    {
        var amounts = new Dictionary<string, double>(StringComparer.Ordinal);
        if (custom is not null)
        {
            foreach (var (name, amount) in custom)
            {
                if (name is ResourceSet.Cpu or ResourceSet.Gpu or ResourceSet.Memory)
                {
                    throw new ArgumentException($"Set '{name}' with its own option (NumCpus, NumGpus, Memory), not in Resources.");
                }

                amounts[name] = amount;
            }
        }

        amounts[ResourceSet.Cpu] = cpus;
        amounts[ResourceSet.Gpu] = gpus;
        amounts[ResourceSet.Memory] = memory;
        return new ResourceSet(amounts);
    }
}
