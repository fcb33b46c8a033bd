namespace RayOrleans.Tests.Functions;

/// <summary>
/// A probe that works across processes: tasks in silo processes report through files in a folder the
/// test made, and wait for the test's go-ahead file (with a deadline).
/// </summary>
public static class FileGate
{
    public static async Task<string> RunGated(string folder)
    {
        var node = Ray.Current.NodeId ?? "driver";
        await File.WriteAllTextAsync(Path.Combine(folder, Guid.NewGuid().ToString("N") + ".started"), node);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!File.Exists(Path.Combine(folder, "go")))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The test never opened the gate.");
            }

            await Task.Delay(20);
        }

        return node;
    }

    public static int Started(string folder) => Directory.GetFiles(folder, "*.started").Length;

    public static void Open(string folder) => File.WriteAllText(Path.Combine(folder, "go"), "");
}
