using System.IO.Compression;
using System.Security.Cryptography;

namespace RayOrleans.Cli.Jobs;

/// <summary>
/// A job's working directory as a zip whose bytes depend on the files only: entries sorted by their
/// '/'-separated relative path, one fixed timestamp, the Unix permissions as they are. The same files give
/// the same SHA-256, so the head, which stores packages by that hash, is sent a folder only once.
/// </summary>
internal sealed class WorkingDirPackage
{
    /// <summary>Every zip entry's timestamp: 1980-01-01, the earliest a zip can hold.</summary>
    private static readonly DateTimeOffset FixedTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private WorkingDirPackage(byte[] bytes, int files)
    {
        Bytes = bytes;
        Files = files;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    public byte[] Bytes { get; }

    /// <summary>Lowercase hex SHA-256 of <see cref="Bytes"/>, the package's name on the head.</summary>
    public string Sha256 { get; }

    public int Files { get; }

    public static WorkingDirPackage Create(string directory)
    {
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw CliException.BadInput($"--working-dir: '{directory}' is not a folder.");
        }

        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
            .Select(path => (Path: path, Name: Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/')))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, name) in files)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
                entry.LastWriteTime = FixedTime;
                if (!OperatingSystem.IsWindows())
                {
                    // Kept so an executable script stays executable where the head unpacks it.
                    entry.ExternalAttributes = (int)File.GetUnixFileMode(path) << 16;
                }

                try
                {
                    using var source = File.OpenRead(path);
                    using var target = entry.Open();
                    source.CopyTo(target);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw CliException.Failure($"--working-dir: cannot read {path}: {e.Message}", e);
                }
            }
        }

        return new WorkingDirPackage(buffer.ToArray(), files.Count);
    }
}
