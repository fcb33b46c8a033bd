using RayOrleans.Messages;

namespace RayOrleans.Autoscaling;

/// <summary>The standing resource request as <see cref="AutoscalerStateGrain"/> keeps it in grain storage.</summary>
[GenerateSerializer, Alias("ray.ResourceRequestRecord")]
internal sealed class ResourceRequestRecord
{
    /// <summary>The bundles the cluster should be able to hold at once (empty: no request).</summary>
    [Id(0)] public ResourceSet[] Bundles { get; set; } = [];
}
