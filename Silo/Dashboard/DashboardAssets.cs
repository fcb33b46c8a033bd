using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace RayOrleans.Silo.Dashboard;

/// <summary>
/// The dashboard's files (HTML, CSS, JavaScript from <c>Silo/Dashboard/Assets</c>), embedded in the host
/// assembly as <c>dashboard/NAME</c> and read once at start-up. Serving them from memory keeps a copied
/// host self-contained and lets each answer carry a strong ETag, so a browser refreshing every few seconds
/// revalidates the page without downloading it again.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, Asset> _assets;

    private DashboardAssets(FrozenDictionary<string, Asset> assets) => _assets = assets;

    /// <summary>One file: its bytes, content type and ETag.</summary>
    public sealed record Asset(byte[] Content, string ContentType, string ETag);

    /// <summary>The file names, as the pages link them (<c>tasks.html</c>, <c>dashboard.js</c>).</summary>
    public IEnumerable<string> Names => _assets.Keys;

    /// <summary>Reads every embedded dashboard file of <paramref name="assembly"/>.</summary>
    public static DashboardAssets Load(Assembly assembly)
    {
        var assets = new Dictionary<string, Asset>(StringComparer.OrdinalIgnoreCase);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var name = resource[Prefix.Length..];
            var type = ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream");
            assets[name] = new Asset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }

        return assets.Count > 0
            ? new DashboardAssets(assets.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase))
            : throw new InvalidOperationException($"The dashboard's files are not embedded in {assembly.GetName().Name}.");
    }

    /// <summary>The file called <paramref name="name"/>, or null.</summary>
    public Asset? Find(string name) => _assets.GetValueOrDefault(name);
}
