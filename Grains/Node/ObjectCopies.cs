namespace RayOrleans.Node;

/// <summary>
/// On the node that holds an object's primary copy: the other nodes that pulled a copy of it, and how many
/// pulls each source (this node, or a copy) is serving now. A new pull goes to the least busy source, a copy
/// before the primary on a tie, so many nodes asking for one object fan out over the copies already made
/// instead of all reading from one node; a source serves at most <see cref="MaxPullsPerSource"/> pulls at
/// once, and later pullers wait for a copy in progress to finish, so a broadcast spreads as a tree. When the
/// primary is freed, its copies are freed with it.
/// </summary>
internal sealed class ObjectCopies
{
    private readonly Dictionary<ObjectId, Dictionary<string, int>> _sources = new();

    /// <summary>
    /// Pulls one source serves at once. With two, a broadcast to n nodes takes about log2(n) rounds of
    /// copies, and no node sends more than two objects' worth at a time.
    /// </summary>
    public const int MaxPullsPerSource = 2;

    /// <summary>Chooses where <paramref name="requester"/> pulls from and counts the pull on it; null when every source is busy.</summary>
    public string? PickSource(ObjectId id, string self, string requester)
    {
        lock (_sources)
        {
            if (!_sources.TryGetValue(id, out var active))
            {
                active = new Dictionary<string, int>(StringComparer.Ordinal) { [self] = 0 };
                _sources[id] = active;
            }

            var best = self;
            var least = int.MaxValue;
            foreach (var (node, pulls) in active)
            {
                if (node == requester)
                {
                    continue;
                }

                if (pulls < least || (pulls == least && best == self))
                {
                    best = node;
                    least = pulls;
                }
            }

            if (least >= MaxPullsPerSource)
            {
                return null;
            }

            active[best] = active.GetValueOrDefault(best) + 1;
            return best;
        }
    }

    /// <summary>
    /// A pull from <paramref name="source"/> ended; when it made a copy on <paramref name="node"/>, that node
    /// becomes a source too. False when the object was freed meanwhile (the puller frees its copy).
    /// </summary>
    public bool PullEnded(ObjectId id, string source, string? node)
    {
        lock (_sources)
        {
            if (!_sources.TryGetValue(id, out var active))
            {
                return false;
            }

            if (active.TryGetValue(source, out var pulls))
            {
                active[source] = Math.Max(0, pulls - 1);
            }

            if (node is not null)
            {
                active.TryAdd(node, 0);
            }

            return true;
        }
    }

    /// <summary>A copy could not be read (its node went, or freed it): no more pulls go there.</summary>
    public void DropSource(ObjectId id, string node, string self)
    {
        lock (_sources)
        {
            if (node != self && _sources.TryGetValue(id, out var active))
            {
                active.Remove(node);
            }
        }
    }

    /// <summary>The nodes holding copies of <paramref name="id"/> made from this node's primary.</summary>
    public string[] CopiesOf(ObjectId id, string self)
    {
        lock (_sources)
        {
            return _sources.TryGetValue(id, out var active) ? active.Keys.Where(n => n != self).ToArray() : [];
        }
    }

    /// <summary>
    /// This node takes over the primary of <paramref name="id"/> from a draining node, with the copies
    /// <paramref name="copies"/> other nodes hold: it serves pulls from them and frees them with the primary.
    /// </summary>
    public void Adopt(ObjectId id, string self, string[] copies)
    {
        lock (_sources)
        {
            var active = new Dictionary<string, int>(StringComparer.Ordinal) { [self] = 0 };
            foreach (var copy in copies)
            {
                active.TryAdd(copy, 0);
            }

            _sources[id] = active;
        }
    }

    /// <summary>The primary is freed: forgets the object and returns the nodes whose copies go with it.</summary>
    public string[] Forget(ObjectId id, string self)
    {
        lock (_sources)
        {
            return _sources.Remove(id, out var active) ? active.Keys.Where(n => n != self).ToArray() : [];
        }
    }
}
