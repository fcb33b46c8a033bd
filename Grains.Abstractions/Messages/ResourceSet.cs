namespace RayOrleans.Messages;

/// <summary>
/// An amount of each named resource ("CPU", "GPU", "memory" in bytes, or any custom name), as declared by
/// a task or actor or as offered by a node. Immutable once built.
/// </summary>
[GenerateSerializer, Immutable, Alias("ray.ResourceSet")]
public sealed class ResourceSet
{
    /// <summary>The CPU resource name.</summary>
    public const string Cpu = "CPU";
    /// <summary>The GPU resource name.</summary>
    public const string Gpu = "GPU";
    /// <summary>The memory resource name (bytes).</summary>
    public const string Memory = "memory";

    /// <summary>An empty demand.</summary>
    public static readonly ResourceSet Empty = new(new Dictionary<string, double>());

    /// <summary>Creates a set; zero amounts are dropped.</summary>
    public ResourceSet(IReadOnlyDictionary<string, double> amounts)
    {
        var copy = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, amount) in amounts)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("A resource name must not be empty.", nameof(amounts));
            }

            if (double.IsNaN(amount) || double.IsInfinity(amount) || amount < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(amounts), amount, $"Resource '{name}' must be a finite, non-negative amount.");
            }

            if (amount > 0)
            {
                copy[name] = amount;
            }
        }

        Amounts = copy;
    }

    /// <summary>Name to amount; only positive amounts are present.</summary>
    [Id(0)] public Dictionary<string, double> Amounts { get; }

    /// <summary>The amount of <paramref name="name"/>, zero when absent.</summary>
    public double this[string name] => Amounts.TryGetValue(name, out var v) ? v : 0;

    /// <summary>True when every amount here is at most the same amount in <paramref name="available"/>.</summary>
    public bool FitsIn(ResourceSet available)
    {
        foreach (var (name, amount) in Amounts)
        {
            // A small epsilon absorbs floating-point drift from fractional resources (0.1 CPU ten times).
            if (available[name] + 1e-9 < amount)
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override string ToString() =>
        Amounts.Count == 0 ? "{}" : "{" + string.Join(", ", Amounts.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value:0.###}")) + "}";
}
