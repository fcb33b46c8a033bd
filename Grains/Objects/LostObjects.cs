using RayOrleans.Messages;

namespace RayOrleans.Objects;

/// <summary>The record that stands in for an object that is gone: a get of it throws <see cref="ObjectLostException"/> with the reason.</summary>
internal static class LostObjects
{
    /// <param name="id">The object.</param>
    /// <param name="why">Why it is gone, as a clause ("every reference to it was dropped, and it was freed").</param>
    /// <param name="what">What the record names as its task, for a reader of the error.</param>
    public static ObjectValue Value(ObjectId id, string why, string what = "(lost object)") => new()
    {
        Error = new RayErrorInfo
        {
            Kind = RayErrorKind.ObjectLost, ExceptionType = typeof(ObjectLostException).FullName!, TaskId = id.TaskId, TaskName = what, LostObject = id, Message = why,
        },
    };

    /// <summary>Why a freed object cannot be read.</summary>
    public const string Freed = "every reference to it was dropped, and it was freed";
}
