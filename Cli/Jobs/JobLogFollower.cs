using System.Globalization;
using RayOrleans.Cli.Api;

namespace RayOrleans.Cli.Jobs;

/// <summary>
/// Copies a job's driver output to stdout: <c>GET /api/jobs/{id}/logs?offset=N&amp;waitSeconds=W</c> in a loop,
/// each answer the bytes from N on, <c>X-Log-Offset</c> the next N and <c>X-Job-Status</c> the job's status.
/// With <c>follow</c> it long-polls until the job is in a terminal state and no bytes came back.
/// </summary>
internal static class JobLogFollower
{
    /// <summary>How long one long poll may wait on the head (the contract's maximum is 30 s).</summary>
    private const int WaitSeconds = 20;

    /// <summary>Writes the log and returns the job's last seen status.</summary>
    public static async Task<string?> CopyAsync(ClusterApiClient api, string submissionId, bool follow, CancellationToken cancellationToken)
    {
        using var stdout = Console.OpenStandardOutput();
        long offset = 0;
        string? status = null;
        while (true)
        {
            var query = $"/api/jobs/{Uri.EscapeDataString(submissionId)}/logs?offset={offset.ToString(CultureInfo.InvariantCulture)}" +
                        (follow ? $"&waitSeconds={WaitSeconds}" : "");
            var (body, headers) = await api.GetBytesAsync(query, cancellationToken);
            if (body.Length > 0)
            {
                await stdout.WriteAsync(body, cancellationToken);
                await stdout.FlushAsync(cancellationToken);
            }

            status = headers.TryGetValues("X-Job-Status", out var statuses) ? statuses.FirstOrDefault() : status;
            var next = headers.TryGetValues("X-Log-Offset", out var offsets) && long.TryParse(offsets.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : offset + body.Length;
            offset = Math.Max(next, offset);
            if (!follow && body.Length == 0)
            {
                return status; // all there is, for now
            }

            if (follow && body.Length == 0 && JobStatuses.IsTerminal(status))
            {
                return status;
            }

            if (follow && body.Length == 0 && status is null)
            {
                // A head that does not say the status cannot be followed to the end; ask the job itself.
                var info = await api.GetJsonAsync($"/api/jobs/{Uri.EscapeDataString(submissionId)}", cancellationToken);
                status = Rendering.JsonTable.Find(info, "status")?.GetString();
                if (JobStatuses.IsTerminal(status))
                {
                    return status;
                }
            }

            if (follow && body.Length == 0)
            {
                // A long poll that came back empty: a head that honours waitSeconds already waited; this
                // pause only keeps one that does not from being polled in a tight loop.
                await Task.Delay(250, cancellationToken);
            }
        }
    }
}
