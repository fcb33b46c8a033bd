using OpenTelemetry.Trace;
using RayOrleans.Telemetry;

namespace RayOrleans.Silo.Hosting;

/// <summary>
/// Decides for spans that start a trace: RayOrleans' own (<c>ray.submit</c>, <c>ray.execute</c>) are kept, every
/// other root is dropped. A node's runtime makes grain calls of its own all the time (membership, its load report
/// every second, the cluster view twice a second), and with Orleans' sources subscribed each would be a trace
/// of one span; Orleans' spans inside a Ray trace are kept, since a child follows its parent's decision
/// (<see cref="ParentBasedSampler"/> around this one).
/// </summary>
internal sealed class RayRootSampler : Sampler
{
    private static readonly SamplingResult Keep = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    public RayRootSampler() => Description = nameof(RayRootSampler);

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.Name.StartsWith(RayTelemetry.Spans.Submit, StringComparison.Ordinal) ||
        samplingParameters.Name.StartsWith(RayTelemetry.Spans.Execute, StringComparison.Ordinal)
            ? Keep
            : Drop;
}
