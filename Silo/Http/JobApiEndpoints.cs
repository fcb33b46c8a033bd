using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using RayOrleans.Silo.Jobs;

namespace RayOrleans.Silo.Http;

/// <summary>
/// The job submission API of the head node, the routes Ray's job server serves under <c>/api/jobs</c> and
/// <c>/api/packages</c>, as <c>rayo job submit|status|logs|stop|list</c> calls them. JSON is camelCase;
/// statuses are Ray's upper-case names.
/// </summary>
internal static class JobApiEndpoints
{
    /// <summary>The most bytes of log one answer carries; a client reads on from <c>X-Log-Offset</c>.</summary>
    public const int MaxLogChunkBytes = 1024 * 1024;

    /// <summary>The longest long-poll of the logs route, in seconds.</summary>
    public const int MaxLogWaitSeconds = 30;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper) },
    };

    /// <summary>
    /// Maps <c>HEAD|GET|PUT /api/packages/{sha256}</c>, <c>POST|GET /api/jobs</c>, <c>GET /api/jobs/{id}</c>,
    /// <c>GET /api/jobs/{id}/logs</c> and <c>POST /api/jobs/{id}/stop</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapJobApi(this IEndpointRouteBuilder endpoints)
    {
        // 200 when the head has the package (so an upload can be skipped), else 404.
        endpoints.MapMethods("/api/packages/{sha256}", [HttpMethods.Head], (string sha256, PackageStore packages) =>
            !PackageStore.IsSha256(sha256) ? BadRequest(NotSha256(sha256))
            : packages.Contains(sha256) ? Results.Ok() : Results.NotFound());

        // The zip as uploaded, for nodes that need a job's code.
        endpoints.MapGet("/api/packages/{sha256}", (string sha256, PackageStore packages) =>
            !PackageStore.IsSha256(sha256) ? BadRequest(NotSha256(sha256))
            : packages.ZipPath(sha256) is { } zip ? Results.File(zip, "application/zip")
            : Results.Text($"No package {sha256} on this head.", statusCode: StatusCodes.Status404NotFound));

        // Stores a zip under its SHA-256: 201 when stored now, 200 when it was already there.
        endpoints.MapPut("/api/packages/{sha256}", async (string sha256, HttpContext context, PackageStore packages, JobOptions options) =>
        {
            // Kestrel's default cap (30 MB) is lower than a package may be; the store enforces the real limit.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = options.MaxPackageBytes + 1;
            }

            if (context.Request.ContentLength > options.MaxPackageBytes)
            {
                return Results.Text(
                    $"the package is {context.Request.ContentLength} bytes, over the {options.MaxPackageBytes} this head accepts (--max-package-size).",
                    statusCode: StatusCodes.Status413PayloadTooLarge);
            }

            try
            {
                var stored = await packages.PutAsync(sha256, context.Request.Body, context.RequestAborted);
                var body = new { sha256 = sha256.ToLowerInvariant(), cached = !stored };
                return stored ? Results.Json(body, Json, statusCode: StatusCodes.Status201Created) : Results.Json(body, Json);
            }
            catch (PackageTooLargeException e)
            {
                return Results.Text(e.Message, statusCode: StatusCodes.Status413PayloadTooLarge);
            }
            catch (BadHttpRequestException e)
            {
                // Kestrel's own body limit (set above) or a body cut short by the client.
                return Results.Text($"the package upload failed: {e.Message}", statusCode: e.StatusCode);
            }
            catch (InvalidJobRequestException e)
            {
                return BadRequest(e.Message);
            }
        });

        endpoints.MapPost("/api/jobs", async (HttpContext context, JobManager jobs) =>
        {
            JobSubmitRequest? request;
            try
            {
                request = await context.Request.ReadFromJsonAsync<JobSubmitRequest>(Json, context.RequestAborted);
            }
            catch (JsonException e)
            {
                return BadRequest($"the body is not a job submission: {e.Message}");
            }
            catch (InvalidOperationException e)
            {
                // ReadFromJsonAsync's answer to a body that is not declared as JSON.
                return BadRequest($"the body is not a job submission: {e.Message}");
            }

            if (request is null)
            {
                return BadRequest("the body is not a job submission: expected a JSON object with an entrypoint.");
            }

            try
            {
                return Results.Json(new { submissionId = jobs.Submit(request).SubmissionId }, Json);
            }
            catch (InvalidJobRequestException e)
            {
                return BadRequest(e.Message);
            }
            catch (HeadShuttingDownException e)
            {
                return Results.Text(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        // Filters and limit as every listing of the state API takes them (?status=RUNNING&limit=10).
        endpoints.MapGet("/api/jobs", (HttpRequest request, JobManager jobs) =>
            StateApiEndpoints.TryReadFilters(request, out var filters, out var limit, out var bad)
                ? StateApiEndpoints.Filtered(jobs.List(), filters, limit, "jobs", Json)
                : bad);

        endpoints.MapGet("/api/jobs/{id}", (string id, JobManager jobs) =>
            jobs.Find(id) is { } job ? Results.Json(job.Info, Json) : UnknownJob(id));

        // The driver's output from byte `offset`; with waitSeconds > 0 it waits for more (or for the end).
        // The status is read before the bytes: when it is terminal the log was already complete, so an
        // answer with a terminal status and an empty body means there is nothing more to read.
        endpoints.MapGet("/api/jobs/{id}/logs", async (string id, string? offset, string? waitSeconds, HttpContext context, JobManager jobs) =>
        {
            if (jobs.Find(id) is not { } job)
            {
                return UnknownJob(id);
            }

            long from = 0;
            if (offset is not null && (!long.TryParse(offset, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out from)))
            {
                return BadRequest($"offset must be a whole number of bytes, 0 or more; got '{offset}'.");
            }

            var wait = 0;
            if (waitSeconds is not null && (!int.TryParse(waitSeconds, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out wait) || wait > MaxLogWaitSeconds))
            {
                return BadRequest($"waitSeconds must be a whole number from 0 to {MaxLogWaitSeconds}; got '{waitSeconds}'.");
            }

            if (wait > 0)
            {
                await job.Output.WaitAsync(from, TimeSpan.FromSeconds(wait), context.RequestAborted);
            }

            var status = job.Info.Status;
            byte[] bytes;
            try
            {
                bytes = await job.Output.ReadAsync(from, MaxLogChunkBytes, context.RequestAborted);
            }
            catch (FileNotFoundException)
            {
                return UnknownJob(id); // forgotten (and its log deleted) while this request waited
            }

            context.Response.Headers["X-Log-Offset"] = (from + bytes.Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["X-Job-Status"] = status.ToRayString();
            return Results.Bytes(bytes, "text/plain; charset=utf-8");
        });

        endpoints.MapPost("/api/jobs/{id}/stop", async (string id, JobManager jobs) =>
            jobs.Find(id) is { } job ? Results.Json(new { stopped = await job.StopAsync() }, Json) : UnknownJob(id));

        return endpoints;
    }

    private static IResult UnknownJob(string id) => Results.Text($"No job with submission id '{id}'.", statusCode: StatusCodes.Status404NotFound);

    // Plain text, as Ray's job server answers errors, so a client prints the body as it is.
    private static IResult BadRequest(string message) => Results.Text(message, statusCode: StatusCodes.Status400BadRequest);

    private static string NotSha256(string sha256) => $"'{sha256}' is not a SHA-256 (64 hex digits).";
}
