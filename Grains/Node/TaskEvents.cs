using System.Collections.Concurrent;
using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>
/// The ended task attempts this node remembers for the state API (Ray keeps task events in its GCS; here
/// each node keeps its own, and a listing asks every node). Running and queued work is not kept here: the
/// scheduler and the actors' mailboxes describe it when asked. Ended attempts go into a ring of fixed size,
/// so memory stays bounded however many tasks run: the oldest are dropped first, while per-name counts keep
/// counting them (what <see cref="Summary"/> reports). Cheap enough for the hot path: one record and one
/// counter per ended attempt, no lock, nothing allocated.
/// </summary>
internal sealed class TaskEvents
{
    // Values in a fixed array rather than one TaskState object per attempt: an attempt's record used to be a
    // fresh object that the ring kept alive past the next collections, so every task paid for its promotion
    // out of gen0 (on 2 cores the GC held a busy node paused for a third of the time). Now recording copies
    // values into the ring (its strings are the task's own, shared) and a TaskState is built only when listed.
    private readonly Ended[] _ring;
    // Per slot, the number of the attempt written there plus one, or 0 while it is being written: a reader
    // that sees the same number before and after copying a slot has a whole record (a seqlock), since a
    // record is too large to be written atomically.
    private readonly long[] _versions;
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

        _ring = new Ended[capacity];
        _versions = new long[capacity];
    }

    /// <summary>Ended attempts recorded since the node started, kept or dropped.</summary>
    public long Recorded => Interlocked.Read(ref _next);

    /// <summary>Records an ended attempt (FINISHED or FAILED) reported as a row, by the owner of work lost elsewhere.</summary>
    public void Add(TaskState ended) => Add(new Ended
    {
        TaskId = ended.TaskId, Attempt = ended.Attempt, Name = ended.Name, Type = ended.Type, State = ended.State, JobId = ended.JobId,
        ActorId = ended.ActorId, ParentTaskId = ended.ParentTaskId, NodeId = ended.NodeId, CreationTime = ended.CreationTime,
        StartTime = ended.StartTime, EndTime = ended.EndTime, ErrorType = ended.ErrorType, ErrorMessage = ended.ErrorMessage, Retried = ended.Retried,
    });

    /// <summary>Records an ended attempt (FINISHED or FAILED) that ran here.</summary>
    public void Add(in Ended ended)
    {
        // Names are usually few (one per function); a program that names each task apart must not grow this
        // without bound: past MaxNames, new names are counted together.
        // The last counter used is tried first, by reference: a node mostly ends the same function's tasks over
        // and over, and hashing two strings per attempt showed in profiles.
        var last = Volatile.Read(ref _lastCounts);
        Counts? counts;
        if (last is not null && ReferenceEquals(last.Name, ended.Name) && ReferenceEquals(last.Type, ended.Type))
        {
            counts = last.Counts;
        }
        else
        {
            if (!_counts.TryGetValue((ended.Name, ended.Type), out counts))
            {
                counts = _counts.Count < MaxNames
                    ? _counts.GetOrAdd((ended.Name, ended.Type), static _ => new Counts())
                    : _counts.GetOrAdd((OtherNames, ended.Type), static _ => new Counts());
            }

            Volatile.Write(ref _lastCounts, new LastCounts(ended.Name, ended.Type, counts));
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
            var i = (int)(slot % _ring.Length);
            // Claim the slot: a writer that lapped the ring onto a slot still being written (only possible with a
            // tiny ring) waits its turn instead of mixing two records.
            var spin = new SpinWait();
            while (Interlocked.Exchange(ref _versions[i], 0) == 0 && slot >= _ring.Length)
            {
                spin.SpinOnce();
            }

            _ring[i] = ended;
            Volatile.Write(ref _versions[i], slot + 1);
        }
    }

    /// <summary>The kept attempts, newest first.</summary>
    public IEnumerable<TaskState> Recent()
    {
        var next = Interlocked.Read(ref _next);
        for (long slot = next - 1, end = Math.Max(0, next - _ring.Length); slot >= end; slot--)
        {
            var i = (int)(slot % _ring.Length);
            if (Volatile.Read(ref _versions[i]) != slot + 1)
            {
                continue; // being written, or already overwritten by a newer attempt (listed from its own slot)
            }

            var kept = _ring[i];
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _versions[i]) == slot + 1)
            {
                yield return kept.ToState();
            }
        }
    }

    /// <summary>
    /// The highest attempt of <paramref name="taskId"/> kept here, or -1 (a scan of the ring: only for a reply that
    /// was lost, never on the hot path).
    /// </summary>
    public int LastAttemptOf(Guid taskId)
    {
        var last = -1;
        foreach (var row in Recent())
        {
            if (row.TaskId == taskId && row.Attempt > last)
            {
                last = row.Attempt;
            }
        }

        return last;
    }

    /// <summary>One ended attempt as the ring keeps it: the values of its <see cref="TaskState"/> row.</summary>
    public struct Ended
    {
        public Guid TaskId;
        public Guid ParentTaskId;
        public Guid? ActorId;
        public int Attempt;
        public bool Retried;
        public string Name;
        public string Type;
        public string State;
        public string JobId;
        public string? NodeId;
        public string? ErrorType;
        public string? ErrorMessage;
        public DateTime? CreationTime;
        public DateTime? StartTime;
        public DateTime? EndTime;

        public readonly TaskState ToState() => new()
        {
            TaskId = TaskId, Attempt = Attempt, Name = Name, Type = Type, State = State, JobId = JobId, ActorId = ActorId,
            ParentTaskId = ParentTaskId, NodeId = NodeId, CreationTime = CreationTime, StartTime = StartTime, EndTime = EndTime,
            ErrorType = ErrorType, ErrorMessage = ErrorMessage, Retried = Retried,
        };
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

    private LastCounts? _lastCounts;

    private sealed record LastCounts(string Name, string Type, Counts Counts);

    private sealed class Counts
    {
        public long Finished;
        public long Failed;
    }
}
