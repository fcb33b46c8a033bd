using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace RayOrleans.Autoscaler.Providers;

/// <summary>
/// Scales the worker pools of <c>deploy/kubernetes</c> (a Deployment per node type, <see cref="NodeTypeOptions.WorkerPool"/>)
/// through the Kubernetes API, as KubeRay scales its worker groups:
/// <list type="bullet">
/// <item>An instance is a pod of the pool (found by the selector its <c>/scale</c> subresource reports); its name is the
/// instance id, which the node host puts in its <see cref="AutoscalerLabels.Instance"/> label from <c>POD_NAME</c>.
/// Replicas asked for whose pods do not exist yet are listed as <c>{pool}/pending-{n}</c>, so they count as starting.</item>
/// <item>Launch: <c>PATCH .../deployments/{pool}/scale</c> with <c>spec.replicas</c> raised by the count.</item>
/// <item>Terminate: each chosen pod gets the <c>controller.kubernetes.io/pod-deletion-cost</c> annotation at the
/// lowest cost, then the replicas are lowered by as many, so the ReplicaSet deletes exactly those pods (KubeRay's
/// workersToDelete); the kubelet's SIGTERM makes each silo leave the membership gracefully. Lowering first and
/// annotating after would let the ReplicaSet pick a busy pod.</item>
/// </list>
/// Merge patches (not strategic merge) so the same requests work on a StatefulSet's or any scale subresource.
/// </summary>
internal sealed partial class KubernetesProvider : INodeProvider
{
    /// <summary>The annotation the ReplicaSet controller orders scale-down by (lower goes first), Kubernetes 1.22+.</summary>
    public const string DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

    private const string PendingMarker = "/pending-";

    private readonly IKubernetes _client;
    private readonly bool _ownsClient;
    private readonly string _namespace;
    private readonly Dictionary<string, string> _poolOfType;
    private readonly ILogger _logger;

    public KubernetesProvider(IKubernetes client, AutoscalerOptions options, ILogger<KubernetesProvider> logger, bool ownsClient = false)
    {
        _client = client;
        _ownsClient = ownsClient;
        _namespace = options.Kubernetes.EffectiveNamespace;
        _poolOfType = options.NodeTypes.ToDictionary(t => t.Name, t => t.WorkerPool!, StringComparer.Ordinal);
        _logger = logger;
    }

    public string Name => ProviderNames.Kubernetes;

    /// <summary>A client for <paramref name="options"/>: its <c>Host</c>, else the pod's service account, else the kubeconfig file.</summary>
    public static IKubernetes CreateClient(KubernetesProviderOptions options)
    {
        var configuration = !string.IsNullOrWhiteSpace(options.Host) ? new KubernetesClientConfiguration { Host = options.Host }
            : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile();
        return new Kubernetes(configuration);
    }

    public async Task<IReadOnlyList<ProviderInstance>> ListAsync(CancellationToken cancellationToken)
    {
        var instances = new List<ProviderInstance>();
        foreach (var (type, pool) in _poolOfType)
        {
            var scale = await _client.AppsV1.ReadNamespacedDeploymentScaleAsync(pool, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            var selector = scale.Status?.Selector;
            if (string.IsNullOrEmpty(selector))
            {
                throw new InvalidOperationException($"The scale of {_namespace}/{pool} reports no pod selector; is it a Deployment or StatefulSet?");
            }

            var pods = await _client.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
            var alive = 0;
            foreach (var pod in pods.Items)
            {
                var stopping = pod.Metadata.DeletionTimestamp is not null;
                var failure = pod.Status?.Phase is "Failed" or "Succeeded"
                    ? $"pod {pod.Metadata.Name} is {pod.Status.Phase}{(string.IsNullOrEmpty(pod.Status.Reason) ? "" : $" ({pod.Status.Reason}: {pod.Status.Message})")}"
                    : null;
                if (!stopping && failure is null)
                {
                    alive++;
                }

                instances.Add(new ProviderInstance(pod.Metadata.Name, type, stopping, failure));
            }

            // Replicas asked for and not created yet: starting nodes all the same.
            for (var n = alive; n < (scale.Spec?.Replicas ?? 0); n++)
            {
                instances.Add(new ProviderInstance($"{pool}{PendingMarker}{n}", type));
            }
        }

        return instances;
    }

    public async Task LaunchAsync(NodeType type, int count, CancellationToken cancellationToken)
    {
        var pool = _poolOfType[type.Name];
        var scale = await _client.AppsV1.ReadNamespacedDeploymentScaleAsync(pool, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        var replicas = (scale.Spec?.Replicas ?? 0) + count;
        await ScaleAsync(pool, replicas, cancellationToken).ConfigureAwait(false);
        LogScaled(_logger, _namespace, pool, replicas);
    }

    public async Task TerminateAsync(IReadOnlyList<ProviderInstance> instances, CancellationToken cancellationToken)
    {
        foreach (var group in instances.GroupBy(i => i.NodeType, StringComparer.Ordinal))
        {
            var pool = _poolOfType[group.Key];
            foreach (var pod in group.Where(i => !i.InstanceId.Contains(PendingMarker, StringComparison.Ordinal)))
            {
                // int.MinValue: below any cost a user may have set, so these go before every other pod.
                var annotate = new V1Patch(
                    "{\"metadata\":{\"annotations\":{\"" + DeletionCostAnnotation + "\":\"" + int.MinValue.ToString(CultureInfo.InvariantCulture) + "\"}}}", V1Patch.PatchType.MergePatch);
                await _client.CoreV1.PatchNamespacedPodAsync(annotate, pod.InstanceId, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            var scale = await _client.AppsV1.ReadNamespacedDeploymentScaleAsync(pool, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            var replicas = Math.Max(0, (scale.Spec?.Replicas ?? 0) - group.Count());
            await ScaleAsync(pool, replicas, cancellationToken).ConfigureAwait(false);
            LogScaled(_logger, _namespace, pool, replicas);
        }
    }

    public ValueTask DisposeAsync()
    {
        // The pools stay as they are: a restarted head's autoscaler finds their pods again and carries on.
        if (_ownsClient)
        {
            _client.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private Task ScaleAsync(string pool, int replicas, CancellationToken cancellationToken) =>
        _client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch("{\"spec\":{\"replicas\":" + replicas.ToString(CultureInfo.InvariantCulture) + "}}", V1Patch.PatchType.MergePatch), pool, _namespace, cancellationToken: cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scaled {Namespace}/{Pool} to {Replicas} replicas.")]
    private static partial void LogScaled(ILogger logger, string @namespace, string pool, int replicas);
}
