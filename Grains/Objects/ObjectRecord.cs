using RayOrleans.Grains;
using RayOrleans.Messages;

namespace RayOrleans.Objects;

/// <summary>
/// A directory shard's record of one object: its value once ready, its owner, and who references it. Serializable,
/// because a shard migrating off a draining node takes its records along.
/// </summary>
[GenerateSerializer, Alias("ray.ObjectRecord")]
internal sealed class ObjectRecord
{
    [Id(0)]
    private Dictionary<string, int>? _holders;

    [Id(1)]
    private int _total;

    /// <summary>The object's value (inline bytes, location, or error); null until it is ready.</summary>
    [Id(2)]
    public ObjectValue? Value { get; set; }

    /// <summary>The runtime that owns it, when its owner counted a reference.</summary>
    [Id(3)]
    public string? Owner { get; set; }

    /// <summary>How to reach the owner, when it gave one.</summary>
    [Id(4)]
    public IObjectOwner? OwnerRef { get; set; }

    /// <summary>The node its exited owner handed its task to, which publishes it; checked while readers wait.</summary>
    [Id(5)]
    public string? HandedTo { get; set; }

    /// <summary>What made it, as its owner said.</summary>
    [Id(6)]
    public string? Creator { get; set; }

    /// <summary>Nodes that pulled a copy (freed with the primary, by its node).</summary>
    [Id(7)]
    public HashSet<string>? Copies { get; set; }

    /// <summary>Every reference went before its value arrived: the value is freed as it comes.</summary>
    [Id(8)]
    public bool Freed { get; set; }

    /// <summary>References across all holders. Records published without any (a generator's values) stay until read and dropped.</summary>
    public int Total => _total;

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

        _total += delta;
        return _total;
    }

    /// <summary>The references <paramref name="holder"/> has counted here (negative while a release overtook its add).</summary>
    public int Count(string holder) => _holders?.GetValueOrDefault(holder) ?? 0;

    public ObjectRecordInfo Describe(ObjectId id, string shard, bool rebuilding = false) => new()
    {
        Rebuilding = rebuilding,
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
