using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace RayOrleans.Silo.Jobs;

/// <summary>
/// The head's content-addressed store of job packages (Ray's working_dir uploads, <c>gcs://_ray_pkg_*.zip</c>):
/// each zip is kept as <c>packages/{sha256}.zip</c> and unpacked once into <c>packages/{sha256}/</c>, where
/// every job naming that hash runs. A hash is only ever stored once, so a second upload is answered from the
/// cache.
/// </summary>
/// <remarks>
/// The unpacked folder is moved into place last, in one rename, so its presence is what "the head has the
/// package" means: a crash or a rejected upload leaves only <c>*.partial-*</c> leftovers, which are cleared on
/// start.
/// </remarks>
internal sealed partial class PackageStore
{
    private const string PartialMarker = ".partial-";
    private readonly JobOptions _options;
    private readonly string _root;

    public PackageStore(JobOptions options)
    {
        _options = options;
        _root = Path.Combine(Path.GetFullPath(options.JobsDirectory), "packages");
        Directory.CreateDirectory(_root);
        foreach (var leftover in Directory.EnumerateFileSystemEntries(_root, $"*{PartialMarker}*"))
        {
            DeleteQuietly(leftover);
        }
    }

    /// <summary>True when <paramref name="sha256"/> is 64 hex digits (either case).</summary>
    public static bool IsSha256(string? sha256) => sha256 is not null && Sha256Pattern().IsMatch(sha256);

    /// <summary>Whether the package is stored and unpacked.</summary>
    public bool Contains(string sha256) => Directory.Exists(UnpackedPath(Normalize(sha256)));

    /// <summary>The folder the package is unpacked in.</summary>
    public string UnpackedPath(string sha256) => Path.Combine(_root, Normalize(sha256));

    /// <summary>The stored zip, or null when the package is not stored.</summary>
    public string? ZipPath(string sha256)
    {
        var hash = Normalize(sha256);
        var zip = Path.Combine(_root, hash + ".zip");
        return Contains(hash) && File.Exists(zip) ? zip : null;
    }

    /// <summary>
    /// Stores the zip read from <paramref name="body"/> under <paramref name="sha256"/>: checks its size and
    /// hash, unpacks it safely, and returns false (reading nothing) when the package is already stored.
    /// </summary>
    /// <exception cref="InvalidJobRequestException">The hash does not match, the bytes are not a zip, or an entry would land outside the package's folder.</exception>
    /// <exception cref="PackageTooLargeException">The zip or its unpacked files are over the configured limits.</exception>
    public async Task<bool> PutAsync(string sha256, Stream body, CancellationToken cancellationToken)
    {
        if (!IsSha256(sha256))
        {
            throw new InvalidJobRequestException($"'{sha256}' is not a SHA-256 (64 hex digits).");
        }

        var hash = Normalize(sha256);
        if (Contains(hash))
        {
            return false;
        }

        var partial = Path.Combine(_root, hash + PartialMarker + Guid.NewGuid().ToString("N"));
        var partialZip = partial + ".zip";
        try
        {
            var actual = await CopyHashedAsync(body, partialZip, cancellationToken);
            if (!string.Equals(actual, hash, StringComparison.Ordinal))
            {
                throw new InvalidJobRequestException($"the package's SHA-256 is {actual}, not {hash} as the URL says.");
            }

            Unpack(partialZip, partial);
            File.Move(partialZip, Path.Combine(_root, hash + ".zip"), overwrite: true);
            try
            {
                Directory.Move(partial, UnpackedPath(hash));
            }
            catch (IOException) when (Contains(hash))
            {
                // Another upload of the same bytes got there first; its copy is identical.
                return false;
            }

            return true;
        }
        finally
        {
            DeleteQuietly(partialZip);
            DeleteQuietly(partial);
        }
    }

    private async Task<string> CopyHashedAsync(Stream body, string path, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long total = 0;
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, useAsync: true))
        {
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > _options.MaxPackageBytes)
                {
                    throw new PackageTooLargeException($"the package is over {_options.MaxPackageBytes} bytes, the most this head accepts (--max-package-size).");
                }

                sha.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Unpacks the zip into <paramref name="folder"/>, refusing an entry whose path leaves the folder (an
    /// absolute path or <c>..</c>: zip-slip) and counting the bytes actually written, since an entry's declared
    /// size is whatever the zip's author wrote. Unix permissions stored in the zip are kept, so scripts stay
    /// executable; symbolic links are not made (entries are written as plain files).
    /// </summary>
    private void Unpack(string zipPath, string folder)
    {
        var root = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(root);
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(zipPath);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidJobRequestException($"the package is not a zip file: {e.Message}");
        }

        using (archive)
        {
            long written = 0;
            var buffer = new byte[81920];
            foreach (var entry in archive.Entries)
            {
                var name = entry.FullName;
                var isFolder = name.EndsWith('/');
                var target = Path.GetFullPath(Path.Combine(root, name));
                var relative = Path.GetRelativePath(root, target);
                if (name.Length == 0 || Path.IsPathRooted(name) || Path.IsPathRooted(relative)
                    || relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                    || (relative == "." && !isFolder))
                {
                    throw new InvalidJobRequestException($"the package's entry '{name}' would be written outside the package's folder.");
                }

                if (isFolder)
                {
                    Directory.CreateDirectory(target);
                    continue;
                }

                if (File.Exists(target) || Directory.Exists(target))
                {
                    throw new InvalidJobRequestException($"the package has the entry '{name}' more than once.");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                try
                {
                    using var source = entry.Open();
                    using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                    int read;
                    while ((read = source.Read(buffer)) > 0)
                    {
                        written += read;
                        if (written > _options.MaxUnpackedPackageBytes)
                        {
                            throw new PackageTooLargeException(
                                $"the package unpacks to over {_options.MaxUnpackedPackageBytes} bytes, the most this head accepts (--max-unpacked-package-size).");
                        }

                        file.Write(buffer, 0, read);
                    }
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidJobRequestException($"the package's entry '{name}' cannot be read: {e.Message}");
                }

                // The high 16 bits of a zip entry's external attributes are its Unix mode when made on Unix.
                var mode = (UnixFileMode)((entry.ExternalAttributes >> 16) & 0x1FF);
                if (mode != UnixFileMode.None && !OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(target, mode | UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        }
    }

    private static string Normalize(string sha256) => sha256.ToLowerInvariant();

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover is cleared on the next start; it never counts as a stored package.
        }
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Pattern();
}
