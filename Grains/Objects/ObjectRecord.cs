using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Objects;

/// <summary>A directory shard's record of one object: its value once ready, its owner, and who references it.</summary>
internal sealed class ObjectRecord
{
    private Dictionary<string, int>? _holders;

    /// <summary>The object's value (inline bytes, location, or error); null until it is ready.</summary>
    public ObjectValue? Value { get; set; }

    /// <summary>The runtime that owns it, when its owner counted a reference.</summary>
    public string? Owner { get; set; }

    /// <summary>How to reach the owner, when it gave one.</summary>
    public IObjectOwner? OwnerRef { get; set; }

    /// <summary>The node its exited owner handed its task to, which publishes it; checked while readers wait.</summary>
    public string? HandedTo { get; set; }

    /// <summary>What made it, as its owner said.</summary>
    public string? Creator { get; set; }

    /// <summary>Nodes that pulled a copy (freed with the primary, by its node).</summary>
    public HashSet<string>? Copies { get; set; }

    /// <summary>Every reference went before its value arrived: the value is freed as it comes.</summary>
    public bool Freed { get; set; }

    /// <summary>References across all holders. Records published without any (a generator's values) stay until read and dropped.</summary>
    public int Total { get; private set; }

    /// <summary>Adds <paramref name="delta"/> references from <paramref name="holder"/>; returns the total left.</summary>
    public int Add(string holder, int delta)
    {
        _holders ??= new Dictionary<string, int>(StringComparer.Ordinal);
        var count = _holders.GetValueOrDefault(holder) + delta;
        if (count == 0)
        {
            _holders.Remove(holder);
        }
        else
        {
            // A release may overtake the add it answers when they come from two processes; the total settles.
            _holders[holder] = count;
        }

        Total += delta;
        return Total;
    }

    public ObjectRecordInfo Describe(ObjectId id, string shard) => new()
    {
        Id = id,
        Shard = shard,
        Size = Value?.Size ?? 0,
        Location = Value?.Location,
        Owner = Owner,
        Creator = Creator,
        Ready = Value is not null,
        Pinned = Total > 0 && Value?.Location is not null,
        Holders = _holders is null ? [] : new Dictionary<string, int>(_holders),
        Contains = Value?.Refs ?? [],
        Copies = Copies?.ToArray() ?? [],
    };
}
