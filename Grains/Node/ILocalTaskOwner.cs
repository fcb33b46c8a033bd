using RayOrleans.Messages;

namespace RayOrleans.Node;

/// <summary>The owner of tasks queued on its own process's node: takes each task's reply directly from the scheduler.</summary>
internal interface ILocalTaskOwner
{
    /// <summary>
    /// Attempt <paramref name="attempt"/> of <paramref name="spec"/> on <paramref name="node"/> replied with
    /// <paramref name="values"/>, or its run failed with <paramref name="failure"/>.
    /// </summary>
    void OnTaskReply(TaskSpec spec, string node, int attempt, ObjectValue[]? values, Exception? failure);
}
