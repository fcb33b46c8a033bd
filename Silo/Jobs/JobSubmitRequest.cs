namespace RayOrleans.Silo.Jobs;

/// <summary>The body of <c>POST /api/jobs</c>, as Ray's <c>JobSubmitRequest</c>.</summary>
/// <param name="Entrypoint">The driver's command line as an argument array (<c>["dotnet", "MyDriver.dll", "arg"]</c>); not empty.</param>
/// <param name="WorkingDir">The SHA-256 of an uploaded package to run in, or null for the head's own folder.</param>
/// <param name="SubmissionId">An id to use instead of a generated one; it must not be taken.</param>
/// <param name="Env">Environment variables of the driver, on top of the head's and <c>RAY_ADDRESS</c>.</param>
/// <param name="Metadata">Free-form labels kept with the job.</param>
/// <remarks>An unknown field is refused (400), so a misspelt one (<c>working_dir</c>) is not silently ignored.</remarks>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
internal sealed record JobSubmitRequest(
    string[]? Entrypoint,
    string? WorkingDir,
    string? SubmissionId,
    Dictionary<string, string?>? Env,
    Dictionary<string, string?>? Metadata);
