using RayOrleans.Messages;

namespace RayOrleans.Objects;

/// <summary>The names of what holds a reference in the directory (see <see cref="DirectoryOp.Holder"/>).</summary>
internal static class ObjectHolders
{
    /// <summary>A runtime's live refs (and the tasks in flight that it sent with them), counted as one reference.</summary>
    public static string Process(string runtimeId) => "process:" + runtimeId;

    /// <summary>A stored object whose value contains the ref; released when that object is freed.</summary>
    public static string Object(ObjectId container) => "object:" + container;

    /// <summary>A task whose owner exited and handed it to its node: its arguments, until it ends there.</summary>
    public static string HandOff(Guid task) => "handoff:" + task.ToString("N");

    /// <summary>An actor built from the ref (a constructor argument), kept for restarts.</summary>
    public static string Actor(Guid actor) => "actor:" + actor.ToString("N");
}
