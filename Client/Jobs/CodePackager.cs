using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;

namespace RayOrleans.Jobs;

/// <summary>
/// Packs a driver's own assemblies into a zip for the cluster (Ray's runtime_env working_dir, done for every
/// driver that connects to a cluster): the .dll files of its application folder, less those every node has
/// (RayOrleans and what it depends on) and test tooling. The zip is deterministic (entries sorted, fixed
/// times), so the same build gives the same SHA-256 and nodes unpack it once.
/// </summary>
internal static class CodePackager
{
    private static readonly DateTimeOffset FixedTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Test runners and compilers a test driver carries; no task needs them.</summary>
    private static readonly string[] ToolingPrefixes =
    [
        "xunit", "testhost", "Microsoft.TestPlatform.", "Microsoft.VisualStudio.", "Microsoft.NET.Test.", "Microsoft.CodeAnalysis", "Microsoft.Testing.",
    ];

    /// <summary>The zip of <paramref name="folder"/>'s user assemblies, and its lowercase hex SHA-256.</summary>
    public static (byte[] Zip, string Hash) Pack(string folder)
    {
        var shared = SharedAssemblies();
        var files = Directory.GetFiles(folder, "*.dll")
            .Where(path => !shared.Contains(Path.GetFileNameWithoutExtension(path)) &&
                           !ToolingPrefixes.Any(p => Path.GetFileName(path).StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(path => Path.GetFileName(path), StringComparer.Ordinal)
            .ToList();
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var path in files)
            {
                var entry = zip.CreateEntry(Path.GetFileName(path), CompressionLevel.Fastest);
                entry.LastWriteTime = FixedTime;
                using var source = File.OpenRead(path);
                using var target = entry.Open();
                source.CopyTo(target);
            }
        }

        var bytes = buffer.ToArray();
        return (bytes, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>RayOrleans' assemblies and everything they reference: a node has its own copies of all of them.</summary>
    private static HashSet<string> SharedAssemblies()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<Assembly>([typeof(Ray).Assembly]);
        while (pending.TryPop(out var assembly))
        {
            if (assembly.GetName().Name is not { } name || !names.Add(name))
            {
                continue;
            }

            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (names.Contains(reference.Name!))
                {
                    continue;
                }

                try
                {
                    pending.Push(Assembly.Load(reference));
                }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    names.Add(reference.Name!); // referenced but absent here: nothing to ship either way
                }
            }
        }

        return names;
    }
}
