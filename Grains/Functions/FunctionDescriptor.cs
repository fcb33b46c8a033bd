using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace RayOrleans.Functions;

/// <summary>
/// Names a remote function, actor method or actor constructor so that another process can find it:
/// declaring type (assembly-qualified), member name, generic arguments and parameter types. The key is a
/// string so it travels in messages and serves as the invoker cache key on the worker.
/// </summary>
internal sealed class FunctionDescriptor
{
    private static readonly ConcurrentDictionary<MethodBase, FunctionDescriptor> Cache = new();

    /// <summary>
    /// Members of a job's collectible code (see <c>JobLoadContext</c>) are cached weakly, so the cache never
    /// keeps a job's code loaded after the job is done.
    /// </summary>
    private static readonly ConditionalWeakTable<MethodBase, FunctionDescriptor> CollectibleCache = new();

    private FunctionDescriptor(MethodBase member, string key, string displayName)
    {
        Member = member;
        Key = key;
        DisplayName = displayName;
    }

    public MethodBase Member { get; }

    public string Key { get; }

    /// <summary>Type.Method, as errors and logs show it.</summary>
    public string DisplayName { get; }

    /// <summary>The member's parameters, read once (<c>GetParameters</c> copies the array on every call). Do not modify.</summary>
    public ParameterInfo[] Parameters => _parameters ??= Member.GetParameters();

    private ParameterInfo[]? _parameters;

    /// <summary>The descriptor of <paramref name="member"/>, after checking it can be called remotely.</summary>
    public static FunctionDescriptor For(MethodBase member) =>
        Cache.TryGetValue(member, out var known) ? known // the common case: a lookup, not the collectible checks
            : IsCollectible(member) ? CollectibleCache.GetValue(member, Create) : Cache.GetOrAdd(member, Create);

    /// <summary>Whether the member belongs to (or is instantiated over) collectible code.</summary>
    public static bool IsCollectible(MethodBase member) =>
        member.IsCollectible || member.DeclaringType?.IsCollectible == true ||
        (member is MethodInfo { IsGenericMethod: true } generic && generic.GetGenericArguments().Any(t => t.IsCollectible));

    private static FunctionDescriptor Create(MethodBase member)
    {
        var type = member.DeclaringType ?? throw new ArgumentException($"'{member.Name}' has no declaring type and cannot be called remotely.");
        var parameters = string.Join(';', member.GetParameters().Select(p => TypeName(p.ParameterType)));
        var generic = member is MethodInfo { IsGenericMethod: true } m
            ? string.Join(';', m.GetGenericArguments().Select(TypeName))
            : string.Empty;
        var kind = member is ConstructorInfo ? "C" : "M";
        var key = $"{kind}|{TypeName(type)}|{member.Name}|{generic}|{parameters}";
        var display = member is ConstructorInfo ? $"{type.Name}.ctor" : $"{type.Name}.{member.Name}";
        return new FunctionDescriptor(member, key, display);
    }

    /// <summary>
    /// Finds the member a key names; throws with the key's parts when it cannot. With <paramref name="context"/>
    /// (a job's shipped code), the key's assemblies are looked up there first.
    /// </summary>
    public static MethodBase Resolve(string key, AssemblyLoadContext? context = null)
    {
        var parts = key.Split('|');
        if (parts.Length != 5 || parts[0] is not ("M" or "C"))
        {
            throw new ArgumentException($"'{key}' is not a RayOrleans function descriptor.");
        }

        var type = LoadType(parts[1], context);
        var parameterTypes = Split(parts[4]).Select(t => LoadType(t, context)).ToArray();
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;
        if (parts[0] == "C")
        {
            return type.GetConstructor(flags, parameterTypes)
                ?? throw new MissingMethodException($"{type} has no public constructor ({string.Join(", ", parameterTypes.Select(t => t.Name))}).");
        }

        var genericArgs = Split(parts[3]).Select(t => LoadType(t, context)).ToArray();
        foreach (var method in type.GetMethods(flags))
        {
            if (method.Name != parts[2] || method.IsGenericMethodDefinition != genericArgs.Length > 0)
            {
                continue;
            }

            var candidate = genericArgs.Length > 0 && method.GetGenericArguments().Length == genericArgs.Length
                ? method.MakeGenericMethod(genericArgs)
                : method;
            if (candidate.GetParameters().Select(p => p.ParameterType).SequenceEqual(parameterTypes))
            {
                return candidate;
            }
        }

        throw new MissingMethodException($"{type} has no public method {parts[2]}({string.Join(", ", parameterTypes.Select(t => t.Name))}); is the same version of its assembly loaded on every node?");
    }

    private static IEnumerable<string> Split(string list) => list.Length == 0 ? [] : list.Split(';');

    private static string TypeName(Type type) =>
        type.AssemblyQualifiedName ?? throw new ArgumentException($"Type {type} cannot be named across processes (open generic or dynamic).");

    private static Type LoadType(string name, AssemblyLoadContext? context) =>
        (context is null
            ? Type.GetType(name, throwOnError: false)
            : Type.GetType(name, assembly => context.LoadFromAssemblyName(assembly), typeResolver: null, throwOnError: false))
        ?? throw new TypeLoadException(context is null
            ? $"Type '{name}' is not loaded on this node; ship its assembly to the cluster."
            : $"Type '{name}' is not in the job's shipped code ({context.Name}) nor on this node.");
}
