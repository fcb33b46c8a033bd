using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>
/// The ended task attempts this node remembers for the state API (Ray keeps task events in its GCS; here
/// each node keeps its own, and a listing asks every node). Running and queued work is not kept here: the
/// scheduler and the actors' mailboxes describe it when asked. Ended attempts go into a ring of fixed size,
/// so memory stays bounded however many tasks run: the oldest are dropped first, while per-name counts keep
/// counting them (what <see cref="Summary"/> reports). Cheap enough for the hot path: one record and one
/// counter per ended attempt, no lock.
/// </summary>
internal sealed class TaskEvents
{
    private readonly TaskState?[] _ring;
    private readonly ConcurrentDictionary<(string Name, string Type), Counts> _counts = new();
    private long _next;

    /// <summary>The most task names counted apart; past it, names are counted under <see cref="OtherNames"/>.</summary>
    public const int MaxNames = 10_000;

    /// <summary>The summary name of the tasks past <see cref="MaxNames"/> names.</summary>
    public const string OtherNames = "(other names)";

    public TaskEvents(int capacity)
    {
        if (capacity < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "MaxTaskEvents must not be negative.");
        }

        _ring = new TaskState?[capacity];
    }

    /// <summary>Ended attempts recorded since the node started, kept or dropped.</summary>
    public long Recorded => Interlocked.Read(ref _next);

    /// <summary>Records an ended attempt (FINISHED or FAILED), here or reported by the owner of work lost elsewhere.</summary>
    public void Add(TaskState ended)
    {
        // Names are usually few (one per function); a program that names each task apart must not grow this
        // without bound: past MaxNames, new names are counted together.
        if (!_counts.TryGetValue((ended.Name, ended.Type), out var counts))
        {
            counts = _counts.Count < MaxNames
                ? _counts.GetOrAdd((ended.Name, ended.Type), static _ => new Counts())
                : _counts.GetOrAdd((OtherNames, ended.Type), static _ => new Counts());
        }

        if (ended.State == TaskStates.Finished)
        {
            Interlocked.Increment(ref counts.Finished);
        }
        else
        {
            Interlocked.Increment(ref counts.Failed);
        }

        var slot = Interlocked.Increment(ref _next) - 1;
        if (_ring.Length > 0)
        {
            _ring[slot % _ring.Length] = ended;
        }
    }

    /// <summary>The kept attempts, newest first.</summary>
    public IEnumerable<TaskState> Recent()
    {
        var next = Interlocked.Read(ref _next);
        for (long i = next - 1, end = Math.Max(0, next - _ring.Length); i >= end; i--)
        {
            if (_ring[i % _ring.Length] is { } kept)
            {
                yield return kept;
            }
        }
    }

    /// <summary>Ended attempts by name, type and state since the node started, dropped ones included.</summary>
    public IEnumerable<TaskSummary> Summary()
    {
        foreach (var ((name, type), counts) in _counts)
        {
            if (Interlocked.Read(ref counts.Finished) is var finished and > 0)
            {
                yield return new TaskSummary(name, type, TaskStates.Finished, finished);
            }

            if (Interlocked.Read(ref counts.Failed) is var failed and > 0)
            {
                yield return new TaskSummary(name, type, TaskStates.Failed, failed);
            }
        }
    }

    private sealed class Counts
    {
        public long Finished;
        public long Failed;
    }
}
