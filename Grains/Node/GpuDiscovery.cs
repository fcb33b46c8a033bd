using System.Diagnostics;

namespace RayOrleans.Node;

/// <summary>
/// Finds the GPUs a node may use, as Ray does: the ids in <c>CUDA_VISIBLE_DEVICES</c> when it is set (an
/// empty value or "-1" means none), else the GPUs <c>nvidia-smi</c> lists, else none.
/// </summary>
internal static class GpuDiscovery
{
    private static readonly Lazy<string[]> Detected = new(Detect);

    /// <summary>The GPU ids of this machine (or of this process, under CUDA_VISIBLE_DEVICES); found once per process.</summary>
    public static IReadOnlyList<string> Ids => Detected.Value;

    private static string[] Detect()
    {
        if (Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is { } visible)
        {
            return ParseVisibleDevices(visible);
        }

        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=index --format=csv,noheader")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (smi is null)
            {
                return [];
            }

            var output = smi.StandardOutput.ReadToEndAsync();
            if (!smi.WaitForExit(10_000) || smi.ExitCode != 0)
            {
                try
                {
                    smi.Kill();
                }
                catch (InvalidOperationException)
                {
                }

                return [];
            }

            return output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return []; // no nvidia-smi on this machine: no NVIDIA GPUs
        }
    }

    /// <summary>The ids in a CUDA_VISIBLE_DEVICES value ("0,2", "GPU-uuid,...", "" or "-1" for none).</summary>
    public static string[] ParseVisibleDevices(string value)
    {
        var ids = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // CUDA stops at the first invalid index; "-1" is the usual way to hide every GPU.
        var end = Array.FindIndex(ids, id => id.StartsWith('-'));
        return end < 0 ? ids : ids[..end];
    }
}
