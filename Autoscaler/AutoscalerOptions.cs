using Microsoft.Extensions.Options;
using RayOrleans.Messages;

namespace RayOrleans.Autoscaler;

/// <summary>
/// How the autoscaler runs (Ray's cluster config: <c>available_node_types</c>, <c>idle_timeout_minutes</c>,
/// <c>upscaling_speed</c>). Read from a JSON file by <see cref="AutoscalerConfigFile"/> (property names as here,
/// any case; durations as <c>"hh:mm:ss"</c>), or built in code. <see cref="Validate"/> names the first bad value.
/// </summary>
public sealed class AutoscalerOptions
{
    /// <summary>The provider that starts and stops nodes. Default <see cref="ProviderNames.LocalProcess"/>.</summary>
    public string Provider { get; set; } = ProviderNames.LocalProcess;

    /// <summary>The kinds of worker node it may start. At least one, names unique.</summary>
    public List<NodeTypeOptions> NodeTypes { get; set; } = [];

    /// <summary>
    /// Time between rounds. Default 1 s: nodes report every second, so a shorter round sees nothing new. From
    /// 50 ms to 5 min.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a worker must have done and held nothing before it is removed (Ray's <c>idle_timeout_minutes</c>).
    /// Default 5 min, Ray's default. From 0 to 7 days.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// After the autoscaler starts a node, no idle node is removed for this long: work that made the launch tends to
    /// arrive in waves, and removing a node in the gap only to start another is the flapping this prevents.
    /// Default 30 s. From 0 to 1 day.
    /// </summary>
    public TimeSpan ScaleDownCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many nodes may be starting at once, as a multiple of the nodes in the cluster (Ray's
    /// <c>upscaling_speed</c>): 1.0 lets a cluster of 10 nodes have 10 more starting; never fewer than
    /// <see cref="MinConcurrentLaunches"/>. Default 1.0. More than 0, at most 1000.
    /// </summary>
    public double UpscalingSpeed { get; set; } = 1.0;

    /// <summary>
    /// Nodes that may be starting at once however small the cluster is (Ray's floor of 5), so a one-node cluster
    /// under a burst does not grow one node at a time. Default 5. From 1 to 1000.
    /// </summary>
    public int MinConcurrentLaunches { get; set; } = 5;

    /// <summary>
    /// A started node that has not joined the cluster within this long is stopped and counted as a failed launch
    /// (its demand then starts another). Default 2 min: a cold .NET silo joins in seconds, a pod whose image must be
    /// pulled may take a minute. From 1 s to 1 hour.
    /// </summary>
    public TimeSpan LaunchTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a node may take to drain before it is stopped: its work to end and its objects to move (Ray's drain
    /// deadline). A drain still unfinished then is cancelled, the node takes work again and is kept, and the decision
    /// says what it waited for. Default 2 min: an idle node drains in seconds, plus the time to move its objects.
    /// From 1 s to 1 hour.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Decisions kept for the status (oldest dropped). Default 100. From 1 to 10,000.</summary>
    public int MaxDecisions { get; set; } = 100;

    /// <summary>The Kubernetes provider's settings (with <see cref="Provider"/> <c>Kubernetes</c>).</summary>
    public KubernetesProviderOptions Kubernetes { get; set; } = new();

    /// <summary>The node types as the planner takes them; valid after <see cref="Validate"/>.</summary>
    public IReadOnlyList<NodeType> ToNodeTypes() => NodeTypes.Select(t => t.ToNodeType()).ToList();

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Provider is not (ProviderNames.LocalProcess or ProviderNames.Kubernetes))
        {
            throw new ArgumentException($"Provider: '{Provider}' is not a provider; expected {ProviderNames.LocalProcess} or {ProviderNames.Kubernetes}.");
        }

        if (NodeTypes is not { Count: > 0 })
        {
            throw new ArgumentException("NodeTypes: at least one node type is needed.");
        }

        foreach (var type in NodeTypes)
        {
            type.ToNodeType().Validate();
            if (Provider == ProviderNames.Kubernetes && string.IsNullOrWhiteSpace(type.WorkerPool))
            {
                throw new ArgumentException($"Node type '{type.Name}': the Kubernetes provider needs its WorkerPool (the worker Deployment's name).");
            }
        }

        if (NodeTypes.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new ArgumentException($"NodeTypes: the name '{duplicate.Key}' is used twice.");
        }

        Range(nameof(PollInterval), PollInterval, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(5));
        Range(nameof(IdleTimeout), IdleTimeout, TimeSpan.Zero, TimeSpan.FromDays(7));
        Range(nameof(ScaleDownCooldown), ScaleDownCooldown, TimeSpan.Zero, TimeSpan.FromDays(1));
        Range(nameof(LaunchTimeout), LaunchTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Range(nameof(DrainTimeout), DrainTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        if (!(UpscalingSpeed > 0 && UpscalingSpeed <= 1000))
        {
            throw new ArgumentException($"UpscalingSpeed: {UpscalingSpeed} is not above 0 and at most 1000.");
        }

        if (MinConcurrentLaunches is < 1 or > 1000)
        {
            throw new ArgumentException($"MinConcurrentLaunches: {MinConcurrentLaunches} is not from 1 to 1000.");
        }

        if (MaxDecisions is < 1 or > 10_000)
        {
            throw new ArgumentException($"MaxDecisions: {MaxDecisions} is not from 1 to 10000.");
        }
    }

    private static void Range(string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"{name}: {value} is not from {min} to {max}.");
        }
    }
}

/// <summary>The names of the providers.</summary>
public static class ProviderNames
{
    /// <summary>Silo processes on this machine.</summary>
    public const string LocalProcess = "LocalProcess";

    /// <summary>Worker Deployments scaled through the Kubernetes API.</summary>
    public const string Kubernetes = "Kubernetes";
}

/// <summary>One node type as configured (see <see cref="NodeType"/>).</summary>
public sealed class NodeTypeOptions
{
    /// <summary>The type's name (<c>cpu-2</c>); nodes of it carry it as their <c>rayorleans.io/node-type</c> label.</summary>
    public string Name { get; set; } = "";

    /// <summary>What one node offers: <c>{"CPU": 2}</c>, <c>{"CPU": 8, "GPU": 1, "memory": 17179869184}</c>, custom names too.</summary>
    public Dictionary<string, double> Resources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Nodes of this type kept however idle. Default 0.</summary>
    public int MinWorkers { get; set; }

    /// <summary>Nodes of this type at most. Default 10.</summary>
    public int MaxWorkers { get; set; } = 10;

    /// <summary>Kubernetes provider only: the Deployment whose replicas are this type's nodes (<c>rayorleans-worker-cpu</c>).</summary>
    public string? WorkerPool { get; set; }

    /// <summary>As the planner takes it.</summary>
    public NodeType ToNodeType()
    {
        ResourceSet resources;
        try
        {
            resources = new ResourceSet(Resources ?? []);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Node type '{Name}': {e.Message}", e);
        }

        return new NodeType { Name = Name, Resources = resources, MinWorkers = MinWorkers, MaxWorkers = MaxWorkers };
    }
}

/// <summary>Where the Kubernetes provider finds the API and the worker pools.</summary>
public sealed class KubernetesProviderOptions
{
    /// <summary>
    /// The namespace of the worker Deployments. Default: the pod's own (<c>POD_NAMESPACE</c>, as the manifests set
    /// it), else <c>rayorleans</c>, the manifests' namespace.
    /// </summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// The API server's address. Default: none, so the in-cluster configuration (the pod's service account) or,
    /// outside a pod, the kubeconfig file. The tests point it at a local HTTP server.
    /// </summary>
    public string? Host { get; set; }

    /// <summary>The namespace in effect.</summary>
    public string EffectiveNamespace =>
        !string.IsNullOrWhiteSpace(Namespace) ? Namespace
        : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } pod ? pod
        : "rayorleans";
}

/// <summary>Runs <see cref="AutoscalerOptions.Validate"/> for the options pattern, so a bad configuration fails at start.</summary>
internal sealed class AutoscalerOptionsValidator : IValidateOptions<AutoscalerOptions>
{
    public ValidateOptionsResult Validate(string? name, AutoscalerOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
