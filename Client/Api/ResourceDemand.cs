using RayOrleans.Messages;

namespace RayOrleans;

/// <summary>Builds the resource set of a task or actor from its options.</summary>
internal static class ResourceDemand
{
    /// <summary>
    /// Checks a demand at the call site: every amount finite and not negative, GPUs above one whole, custom
    /// resources named. Throws <see cref="ArgumentOutOfRangeException"/> naming the option and the value.
    /// </summary>
    public static void Validate(double cpus, double gpus, long memory, IReadOnlyDictionary<string, double>? custom)
    {
        Check("NumCpus", cpus);
        Check("NumGpus", gpus);
        if (memory < 0)
        {
            throw new ArgumentOutOfRangeException("Memory", memory, "Memory must be 0 or more bytes.");
        }

        if (gpus > 1 && gpus != Math.Floor(gpus))
        {
            throw new ArgumentOutOfRangeException("NumGpus", gpus, "NumGpus above 1 must be a whole number (a fraction shares one GPU; more than one takes whole GPUs).");
        }

        foreach (var (name, amount) in custom ?? new Dictionary<string, double>())
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("A custom resource needs a name; Resources has an empty one.", "Resources");
            }

            Check($"Resources[\"{name}\"]", amount);
        }

        static void Check(string option, double amount)
        {
            if (!double.IsFinite(amount) || amount < 0)
            {
                throw new ArgumentOutOfRangeException(option, amount, $"{option} must be a finite amount, 0 or more.");
            }
        }
    }

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
