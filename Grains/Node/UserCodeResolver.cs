using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace RayOrleans.Node;

/// <summary>
/// Lets a node find the assemblies of user code it was not built with: when the runtime resolves a function
/// descriptor naming an assembly the process cannot find, the folders given in
/// <see cref="NodeOptions.CodeDirectories"/> are searched for it. (Shipping code with a submitted job builds
/// on this.)
/// </summary>
internal static class UserCodeResolver
{
    private static readonly ConcurrentDictionary<string, byte> Directories = new(StringComparer.Ordinal);
    private static int _installed;

    public static void Add(IEnumerable<string> directories)
    {
        foreach (var directory in directories)
        {
            var full = Path.GetFullPath(directory);
            if (!Directory.Exists(full))
            {
                throw new DirectoryNotFoundException($"Code directory '{full}' does not exist.");
            }

            Directories.TryAdd(full, 0);
        }

        if (!Directories.IsEmpty && Interlocked.Exchange(ref _installed, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += Resolve;
        }
    }

    /// <summary>
    /// Loads the assemblies in <paramref name="directories"/> that define Orleans types (grains, serializable
    /// types) and that this process does not already have, so the silo can host grains from user code (the
    /// benchmark's baseline grains, for one). Assemblies the process has (Orleans, RayOrleans) are never
    /// loaded twice.
    /// </summary>
    public static IReadOnlyList<Assembly> LoadOrleansAssemblies(IEnumerable<string> directories)
    {
        var own = new HashSet<string>(Directory.GetFiles(AppContext.BaseDirectory, "*.dll").Select(Path.GetFileNameWithoutExtension)!, StringComparer.OrdinalIgnoreCase);
        own.UnionWith(AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name!));
        var found = new List<Assembly>();
        foreach (var directory in directories.Select(Path.GetFullPath).Where(Directory.Exists))
        {
            foreach (var path in Directory.GetFiles(directory, "*.dll"))
            {
                var name = Path.GetFileNameWithoutExtension(path);
                if (own.Contains(name) || name.StartsWith("Microsoft.", StringComparison.Ordinal) || name.StartsWith("System.", StringComparison.Ordinal))
                {
                    continue;
                }

                Assembly assembly;
                try
                {
                    assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
                }
                catch (Exception e) when (e is BadImageFormatException or FileLoadException)
                {
                    continue; // a native library, or one that cannot load beside what the process has
                }

                own.Add(name);
                if (assembly.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "Orleans.ApplicationPartAttribute"))
                {
                    found.Add(assembly);
                }
            }
        }

        return found;
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        foreach (var directory in Directories.Keys)
        {
            var path = Path.Combine(directory, name.Name + ".dll");
            if (File.Exists(path))
            {
                return context.LoadFromAssemblyPath(path);
            }
        }

        return null;
    }
}
