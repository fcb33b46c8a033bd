namespace RayOrleans.Node;

/// <summary>
/// Which of a node's GPUs each holder has, as Ray assigns GPU ids: a demand of one or more GPUs takes that
/// many whole, unused GPUs; a fractional demand shares one GPU, packed onto the fullest GPU that still has
/// room (so fractions do not fragment the whole GPUs later demands need). Not thread-safe: the owner
/// (<see cref="NodeResources"/>) calls it under its lock.
/// </summary>
internal sealed class GpuSlots
{
    private const double Epsilon = 1e-9;
    private readonly string[] _ids;
    private readonly double[] _free;
    private readonly Dictionary<Guid, string[]> _holders = [];

    public GpuSlots(IReadOnlyList<string> ids)
    {
        _ids = ids.ToArray();
        _free = Enumerable.Repeat(1.0, _ids.Length).ToArray();
    }

    public IReadOnlyList<string> Ids => _ids;

    /// <summary>Whether <paramref name="amount"/> GPUs could be given now.</summary>
    public bool Fits(double amount) => amount <= Epsilon || Choose(amount) is not null;

    /// <summary>Gives <paramref name="amount"/> GPUs to <paramref name="holder"/> (call only when <see cref="Fits"/>).</summary>
    public void Take(double amount, Guid holder)
    {
        if (amount <= Epsilon)
        {
            return;
        }

        var chosen = Choose(amount) ?? throw new InvalidOperationException($"{amount} GPUs do not fit now.");
        foreach (var i in chosen)
        {
            _free[i] -= Math.Min(amount, 1);
        }

        _holders[holder] = chosen.Select(i => _ids[i]).ToArray();
    }

    /// <summary>Takes back what <paramref name="holder"/> had.</summary>
    public void Release(double amount, Guid holder)
    {
        if (amount <= Epsilon || !_holders.Remove(holder, out var ids))
        {
            return;
        }

        foreach (var id in ids)
        {
            var i = Array.IndexOf(_ids, id);
            _free[i] = Math.Min(1, _free[i] + Math.Min(amount, 1));
        }
    }

    /// <summary>The GPU ids <paramref name="holder"/> has; empty when none.</summary>
    public string[] IdsOf(Guid holder) => _holders.TryGetValue(holder, out var ids) ? ids : [];

    private int[]? Choose(double amount)
    {
        if (amount >= 1 - Epsilon)
        {
            var whole = (int)Math.Round(amount);
            var unused = Enumerable.Range(0, _ids.Length).Where(i => _free[i] >= 1 - Epsilon).Take(whole).ToArray();
            return unused.Length == whole ? unused : null;
        }

        var best = -1;
        for (var i = 0; i < _ids.Length; i++)
        {
            if (_free[i] + Epsilon >= amount && (best < 0 || _free[i] < _free[best]))
            {
                best = i;
            }
        }

        return best < 0 ? null : [best];
    }
}
