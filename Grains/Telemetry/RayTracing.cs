using System.Diagnostics;
using RayOrleans.Messages;

namespace RayOrleans.Telemetry;

/// <summary>
/// Spans for tasks and actor calls, one trace per driver call however far its work spreads. The trace context
/// travels in the work itself (<see cref="TaskSpec.TraceParent"/>, <see cref="ActorCall.TraceParent"/>) rather
/// than only in Orleans' request context, because work for the caller's own node skips Orleans messaging; and
/// a task's code runs inside its execute span (<see cref="Activity.Current"/>), so what it submits is its child.
/// </summary>
/// <remarks>
/// Hundreds of thousands of tasks a second pass here: with no listener on <see cref="RayTelemetry.SourceName"/>
/// each method costs one <see cref="ActivitySource.HasListeners"/> check, and no message is copied or formatted.
/// </remarks>
internal static class RayTracing
{
    public static readonly ActivitySource Source = new(RayTelemetry.SourceName);

    /// <summary>Whether anything listens, so a caller can skip the work of tracing altogether.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// Starts the submit span of a task this process owns (a child of <see cref="Activity.Current"/>: the
    /// caller's span, or the execute span of the task submitting it) and writes its context into
    /// <paramref name="spec"/>. Null, with <paramref name="spec"/> unchanged, when nothing listens.
    /// </summary>
    public static Activity? StartSubmit(ref TaskSpec spec, string? nodeId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity(RayTelemetry.Spans.Submit + " " + spec.Name, ActivityKind.Producer);
        if (TraceParentOf(span) is { } parent)
        {
            spec = spec with { TraceParent = parent };
        }

        if (span is { IsAllDataRequested: true })
        {
            Describe(span, spec.TaskId, spec.Name, spec.JobId, nodeId);
        }

        return span;
    }

    /// <summary>Starts the submit span of an actor call (see the task's overload).</summary>
    public static Activity? StartSubmit(ref ActorCall call, ActorId actor, string? nodeId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity(RayTelemetry.Spans.Submit + " " + call.Name, ActivityKind.Producer);
        if (TraceParentOf(span) is { } parent)
        {
            call = call with { TraceParent = parent };
        }

        if (span is { IsAllDataRequested: true })
        {
            Describe(span, call.CallId, call.Name, call.JobId, nodeId);
            span.SetTag(RayTelemetry.Attributes.ActorId, actor.Value.ToString());
        }

        return span;
    }

    /// <summary>
    /// Starts the submit span of an actor's creation (<c>ray.submit Class.ctor</c>), from <c>Remote()</c> until
    /// its node has it, and writes its context into <paramref name="spec"/>. Call it in the async method that
    /// creates the actor. Null, with <paramref name="spec"/> unchanged, when nothing listens.
    /// </summary>
    public static Activity? StartCreate(ref ActorSpec spec, string? nodeId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity(RayTelemetry.Spans.Submit + " " + ConstructorName(spec), ActivityKind.Producer);
        if (TraceParentOf(span) is { } parent)
        {
            spec = spec with { TraceParent = parent };
        }

        if (span is { IsAllDataRequested: true })
        {
            DescribeActor(span, spec, nodeId);
        }

        return span;
    }

    /// <summary>Starts the execute span of an actor's constructor on its node (<c>ray.execute Class.ctor</c>), the child of its creation's submit span.</summary>
    public static Activity? StartConstruct(ActorSpec spec, string nodeId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity(RayTelemetry.Spans.Execute + " " + ConstructorName(spec), ActivityKind.Consumer, ParentOf(spec.TraceParent));
        if (span is { IsAllDataRequested: true })
        {
            DescribeActor(span, spec, nodeId);
            span.SetTag(RayTelemetry.Attributes.Attempt, spec.Restarts);
        }

        return span;
    }

    /// <summary>
    /// Starts the execute span of a task on <paramref name="nodeId"/>, run <paramref name="attempt"/> of it (the
    /// state API's number: the owner's sends plus the retries on the node), the child of its submit span (from
    /// <see cref="TaskSpec.TraceParent"/>; a root span when the owner was not traced). It becomes
    /// <see cref="Activity.Current"/>, so call it inside the async method that runs the user's code.
    /// </summary>
    public static Activity? StartExecute(TaskSpec spec, string nodeId, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity(RayTelemetry.Spans.Execute + " " + spec.Name, ActivityKind.Consumer, ParentOf(spec.TraceParent));
        if (span is { IsAllDataRequested: true })
        {
            Describe(span, spec.TaskId, spec.Name, spec.JobId, nodeId);
            span.SetTag(RayTelemetry.Attributes.Attempt, attempt);
        }

        return span;
    }

    /// <summary>Starts the execute span of an actor call on the actor's node (see the task's overload).</summary>
    public static Activity? StartExecute(ActorCall call, ActorId actor, string nodeId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity(RayTelemetry.Spans.Execute + " " + call.Name, ActivityKind.Consumer, ParentOf(call.TraceParent));
        if (span is { IsAllDataRequested: true })
        {
            Describe(span, call.CallId, call.Name, call.JobId, nodeId);
            span.SetTag(RayTelemetry.Attributes.ActorId, actor.Value.ToString());
            span.SetTag(RayTelemetry.Attributes.Attempt, call.Attempt);
        }

        return span;
    }

    /// <summary>
    /// Marks <paramref name="span"/> failed with <paramref name="error"/> (OpenTelemetry's exception attributes).
    /// Returns false, so it can sit in an exception filter that records without catching.
    /// </summary>
    public static bool Failed(Activity? span, Exception error)
    {
        if (span is { IsAllDataRequested: true })
        {
            span.SetStatus(ActivityStatusCode.Error, error.Message);
            span.AddException(error);
        }

        return false;
    }

    /// <summary><c>Class.ctor</c>, the class without its namespace, as actor calls are named (<c>Class.Method</c>).</summary>
    private static string ConstructorName(ActorSpec spec) => spec.ClassName[(spec.ClassName.LastIndexOf('.') + 1)..] + ".ctor";

    private static void DescribeActor(Activity span, ActorSpec spec, string? nodeId)
    {
        span.SetTag(RayTelemetry.Attributes.ActorId, spec.ActorId.Value.ToString());
        span.SetTag(RayTelemetry.Attributes.TaskName, ConstructorName(spec));
        if (spec.JobId.Length > 0)
        {
            span.SetTag(RayTelemetry.Attributes.JobId, spec.JobId);
        }

        if (nodeId is not null)
        {
            span.SetTag(RayTelemetry.Attributes.NodeId, nodeId);
        }
    }

    private static void Describe(Activity span, Guid taskId, string name, string jobId, string? nodeId)
    {
        span.SetTag(RayTelemetry.Attributes.TaskId, taskId.ToString());
        span.SetTag(RayTelemetry.Attributes.TaskName, name);
        if (jobId.Length > 0)
        {
            span.SetTag(RayTelemetry.Attributes.JobId, jobId);
        }

        if (nodeId is not null)
        {
            span.SetTag(RayTelemetry.Attributes.NodeId, nodeId);
        }
    }

    /// <summary>
    /// The W3C traceparent the work carries: its submit span's, or, when the sampler left that out, the
    /// caller's current span's, so the worker still joins the caller's trace (and its sampling decision).
    /// </summary>
    private static string? TraceParentOf(Activity? span) =>
        (span ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : null;

    private static ActivityContext ParentOf(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent) ? parent : default;
}
