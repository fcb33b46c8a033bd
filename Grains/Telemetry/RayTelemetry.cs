namespace RayOrleans.Telemetry;

/// <summary>
/// The names RayOrleans emits telemetry under, in one place: the <see cref="System.Diagnostics.ActivitySource"/>
/// and <see cref="System.Diagnostics.Metrics.Meter"/> to subscribe to, span names, instrument names and
/// attribute keys. An application that hosts a driver adds <see cref="SourceName"/> to its tracer provider and
/// <see cref="MeterName"/> to its meter provider (<c>AddSource("RayOrleans")</c>, <c>AddMeter("RayOrleans")</c>);
/// see <c>docs/telemetry.md</c>.
/// </summary>
public static class RayTelemetry
{
    /// <summary>The name of RayOrleans' <see cref="System.Diagnostics.ActivitySource"/>: <c>RayOrleans</c>.</summary>
    public const string SourceName = "RayOrleans";

    /// <summary>The name of RayOrleans' <see cref="System.Diagnostics.Metrics.Meter"/>: <c>RayOrleans</c>.</summary>
    public const string MeterName = "RayOrleans";

    /// <summary>
    /// The activity sources of Orleans' grain calls (with activity propagation on): <c>Microsoft.Orleans.Runtime</c>
    /// for the runtime's own calls and <c>Microsoft.Orleans.Application</c> for calls to application grains.
    /// </summary>
    public static readonly IReadOnlyList<string> OrleansSourceNames = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>
    /// Whether Orleans' activity propagation is wanted when a host does not say: when the standard OpenTelemetry
    /// settings name a trace exporter (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>,
    /// or <c>OTEL_TRACES_EXPORTER</c> other than <c>none</c>). Off otherwise, because its call filters cost every
    /// grain call 15-30% of its time here (measured on in-silo calls), listener or not, while RayOrleans' own spans
    /// travel in the task and need no propagation.
    /// </summary>
    public static bool OrleansTracingByEnvironment()
    {
        static bool Set(string name) => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name));
        return Set("OTEL_EXPORTER_OTLP_ENDPOINT") || Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ||
               (Set("OTEL_TRACES_EXPORTER") && !string.Equals(Environment.GetEnvironmentVariable("OTEL_TRACES_EXPORTER")!.Trim(), "none", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The name of Orleans' own meter: <c>Microsoft.Orleans</c>.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>Span names: each is followed by a space and the task's name (<c>ray.submit MathTasks.Square</c>).</summary>
    public static class Spans
    {
        /// <summary>
        /// The owner submits a task or an actor call (Ray's <c>task.submit</c>/<c>actor_method.submit</c>): from
        /// <c>Remote()</c> until it is handed to a node or parked waiting for its arguments. Kind: producer.
        /// </summary>
        public const string Submit = "ray.submit";

        /// <summary>
        /// A worker runs a task or an actor method (Ray's <c>task.execute</c>): from its start, its resources held,
        /// until its result is stored. The child of its submit span, in whatever process it runs. Kind: consumer.
        /// </summary>
        public const string Execute = "ray.execute";
    }

    /// <summary>Attribute keys on RayOrleans spans and metrics.</summary>
    public static class Attributes
    {
        /// <summary>The task's (or actor call's) id, as a GUID string.</summary>
        public const string TaskId = "ray.task.id";

        /// <summary>The task's name: the option <c>Name</c>, else <c>Type.Method</c> (<c>Class.Method</c> for an actor call).</summary>
        public const string TaskName = "ray.task.name";

        /// <summary>The actor's id, on an actor call's spans.</summary>
        public const string ActorId = "ray.actor.id";

        /// <summary>The node: the one that submits (absent on a driver) on a submit span, the one that runs it on an execute span; on every node metric.</summary>
        public const string NodeId = "ray.node.id";

        /// <summary>
        /// On execute spans: 0 for the first run, n for the n-th run again, numbered as the state API does (the
        /// owner's sends after a node died or its memory monitor stopped the task, then retries after exceptions on the node).
        /// </summary>
        public const string Attempt = "ray.attempt";

        /// <summary>The job the work belongs to (the driver's job id), when it has one.</summary>
        public const string JobId = "ray.job.id";

        /// <summary>The state on <see cref="Metrics.Tasks"/>: <c>queued</c> or <c>running</c>.</summary>
        public const string TaskState = "ray.task.state";

        /// <summary>The resource kind on <see cref="Metrics.Resources"/>: <c>CPU</c>, <c>GPU</c>, <c>memory</c> or a custom name.</summary>
        public const string Resource = "ray.resource";

        /// <summary>On <see cref="Metrics.Resources"/>: <c>total</c> (the node's in all) or <c>available</c> (free now).</summary>
        public const string ResourceState = "ray.resource.state";
    }

    /// <summary>Instrument names of the <see cref="MeterName"/> meter (Prometheus writes dots as underscores and adds unit suffixes).</summary>
    public static class Metrics
    {
        /// <summary>Tasks on a node now, by <see cref="Attributes.TaskState"/> (queued: waiting for arguments or resources; running). Gauge.</summary>
        public const string Tasks = "ray.tasks";

        /// <summary>Tasks that ran to a result on a node (a streaming generator counts when its stream ends). Counter.</summary>
        public const string TasksFinished = "ray.tasks.finished";

        /// <summary>Tasks that ended in an error on a node (their code threw after its retries, an argument failed, no room in their placement group, the memory monitor stopped them). Counter.</summary>
        public const string TasksFailed = "ray.tasks.failed";

        /// <summary>Seconds from a task's arrival in a node's queue to the start of its code (waiting for arguments and resources). Histogram, unit <c>s</c>.</summary>
        public const string SchedulingLatency = "ray.task.scheduling_latency";

        /// <summary>Actors alive on a node (holding its resources). Gauge.</summary>
        public const string Actors = "ray.actors";

        /// <summary>Bytes of live objects in a node's shared-memory store. Gauge, unit <c>By</c>.</summary>
        public const string ObjectStoreUsed = "ray.object_store.used";

        /// <summary>The node's object store capacity in bytes. Gauge, unit <c>By</c>.</summary>
        public const string ObjectStoreCapacity = "ray.object_store.capacity";

        /// <summary>Bytes of objects the node's store has spilled to disk. Gauge, unit <c>By</c>.</summary>
        public const string ObjectStoreSpilled = "ray.object_store.spilled";

        /// <summary>Objects in a node's store. Gauge.</summary>
        public const string ObjectStoreObjects = "ray.object_store.objects";

        /// <summary>
        /// A node's resources by <see cref="Attributes.Resource"/> and <see cref="Attributes.ResourceState"/>
        /// (<c>total</c>: what it has in all; <c>available</c>: free now). Gauge. One instrument with a state, as
        /// Ray's <c>ray_resources</c>, so Prometheus does not read a <c>_total</c> suffix as a counter's.
        /// </summary>
        public const string Resources = "ray.resources";
    }
}
