using System.Diagnostics;
using RayOrleans.Functions;
using RayOrleans.Messages;
using RayOrleans.Runtime;
using RayOrleans.Telemetry;

namespace RayOrleans.Node;

/// <summary>A task's telemetry on the node that runs it: its execute span and scheduling latency (<c>docs/telemetry.md</c>).</summary>
internal sealed partial class LocalScheduler
{
    /// <summary>
    /// Runs the task's code (<see cref="ExecuteAsync"/>) inside its execute span when something listens, so what
    /// the code submits joins the trace as the span's children; without a listener, no extra state machine.
    /// </summary>
    private ValueTask<ObjectValue[]> ExecuteTracedAsync(TaskRun run, FunctionInvoker invoker, object?[] args, WorkerContext ctx, int attempt)
    {
        if (attempt == 0)
        {
            RayMetrics.TaskStarted(run.QueuedAt, NodeRuntime.NodeId);
        }

        return RayTracing.Enabled ? ExecuteInSpanAsync(run, invoker, args, ctx, attempt) : ExecuteAsync(run, invoker, args, ctx);
    }

    private async ValueTask<ObjectValue[]> ExecuteInSpanAsync(TaskRun run, FunctionInvoker invoker, object?[] args, WorkerContext ctx, int attempt)
    {
        // Started here, in an async method, so the span is Activity.Current for the user's code and no longer
        // once this returns: the reply's continuations do not run inside it.
        // The attempt as the state API numbers it: the owner's sends, then the retries here after exceptions.
        using var span = RayTracing.StartExecute(run.Spec, NodeRuntime.NodeId, run.Spec.Attempt + attempt);
        try
        {
            return await ExecuteAsync(run, invoker, args, ctx).ConfigureAwait(false);
        }
        catch (Exception e) when (RayTracing.Failed(span, e))
        {
            throw; // never reached: the filter records the failure and lets the exception go on
        }
    }
}
