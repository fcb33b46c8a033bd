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
