using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RayOrleans.Telemetry;

namespace RayOrleans.Silo.Hosting;

/// <summary>
/// The node host's OpenTelemetry: RayOrleans' and Orleans' traces and metrics, sent where the standard
/// OpenTelemetry environment variables say, and a Prometheus scrape endpoint (<c>GET /metrics</c>) on the
/// host's loopback HTTP endpoint. Names and attributes are in <see cref="RayTelemetry"/> and <c>docs/telemetry.md</c>.
/// </summary>
internal static class TelemetryHostExtensions
{
    /// <summary>
    /// Registers the OpenTelemetry SDK. Traces go to OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or
    /// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) is set and <c>OTEL_TRACES_EXPORTER</c> (default <c>otlp</c>)
    /// lists <c>otlp</c>, and to the console when it lists <c>console</c>; metrics likewise with
    /// <c>OTEL_METRICS_EXPORTER</c>, and always to the Prometheus endpoint. With no trace exporter, tracing is not
    /// registered at all, so tasks pay nothing for spans nobody would see. <c>OTEL_SERVICE_NAME</c> and
    /// <c>OTEL_RESOURCE_ATTRIBUTES</c> name the node as usual; by default the service is <c>rayorleans-node</c>
    /// and its instance the silo's advertised endpoint (<paramref name="instanceId"/>). Unless
    /// <c>OTEL_TRACES_SAMPLER</c> says otherwise, only Ray work starts a trace (<see cref="RayRootSampler"/>).
    /// </summary>
    public static WebApplicationBuilder AddRayTelemetry(this WebApplicationBuilder builder, string instanceId)
    {
        var configuration = builder.Configuration;
        var traces = Exporters(configuration, "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var metrics = Exporters(configuration, "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            // The environment's name wins over ours (the SDK reads OTEL_SERVICE_NAME before this runs).
            if (string.IsNullOrEmpty(configuration["OTEL_SERVICE_NAME"]))
            {
                resource.AddService("rayorleans-node", serviceInstanceId: instanceId);
            }
        });

        if (traces.Otlp || traces.Console)
        {
            otel.WithTracing(tracing =>
            {
                tracing.AddSource(RayTelemetry.SourceName).AddSource([.. RayTelemetry.OrleansSourceNames]);
                if (string.IsNullOrEmpty(configuration["OTEL_TRACES_SAMPLER"]))
                {
                    // Traces start at Ray work only (OTEL_TRACES_SAMPLER, when set, is the SDK's to apply).
                    tracing.SetSampler(new ParentBasedSampler(new RayRootSampler()));
                }

                if (traces.Otlp)
                {
                    tracing.AddOtlpExporter();
                }

                if (traces.Console)
                {
                    tracing.AddConsoleExporter();
                }
            });
        }

        otel.WithMetrics(meters =>
        {
            meters.AddMeter(RayTelemetry.MeterName, RayTelemetry.OrleansMeterName).AddPrometheusExporter();
            if (metrics.Otlp)
            {
                meters.AddOtlpExporter();
            }

            if (metrics.Console)
            {
                meters.AddConsoleExporter();
            }
        });
        return builder;
    }

    /// <summary>Maps the Prometheus scrape endpoint, <c>GET /metrics</c>.</summary>
    public static IEndpointRouteBuilder MapRayTelemetry(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }

    /// <summary>
    /// Which exporters a signal's <c>OTEL_*_EXPORTER</c> list asks for (the specification's default is
    /// <c>otlp</c>). OTLP needs an endpoint to be set: the SDK's fallback, localhost:4317, is rarely a collector
    /// on a cluster node, and exporting there would only log failures.
    /// </summary>
    private static (bool Otlp, bool Console) Exporters(IConfiguration configuration, string listVariable, string signalEndpointVariable)
    {
        var names = (configuration[listVariable] ?? "otlp").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var endpoint = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) || !string.IsNullOrEmpty(configuration[signalEndpointVariable]);
        return (endpoint && names.Contains("otlp", StringComparer.OrdinalIgnoreCase), names.Contains("console", StringComparer.OrdinalIgnoreCase));
    }
}
