using System.Reflection;
using System.Text;

namespace RayOrleans.Tests;

/// <summary>
/// Freezes the public surface: a change to it shows as a diff of PublicApi.approved.txt in review. To accept
/// a change, copy PublicApi.received.txt (written next to the approved file on failure) over it.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_api_matches_the_approved_snapshot()
    {
        var assemblies = new[] { typeof(Ray).Assembly, typeof(ObjectId).Assembly, typeof(Hosting.RaySiloBuilderExtensions).Assembly };
        var text = new StringBuilder();
        foreach (var assembly in assemblies.OrderBy(a => a.GetName().Name))
        {
            text.AppendLine($"assembly {assembly.GetName().Name}");
            // Orleans' generated codecs are public by necessity, not part of our API.
            foreach (var type in assembly.GetExportedTypes().Where(t => t.Namespace?.StartsWith("OrleansCodeGen", StringComparison.Ordinal) != true).OrderBy(t => t.FullName, StringComparer.Ordinal))
            {
                text.AppendLine($"  {Kind(type)} {Name(type)}{Bases(type)}");
                foreach (var member in Members(type))
                {
                    text.AppendLine($"    {member}");
                }
            }
        }

        var folder = SourceFolder();
        var approvedPath = Path.Combine(folder, "PublicApi.approved.txt");
        var received = text.ToString().ReplaceLineEndings("\n");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (received != approved)
        {
            File.WriteAllText(Path.Combine(folder, "PublicApi.received.txt"), received);
            Assert.Fail($"The public API changed. Review {Path.Combine(folder, "PublicApi.received.txt")} and, if intended, copy it over {approvedPath}.");
        }
    }

    private static IEnumerable<string> Members(Type type)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var members = new List<string>();
        foreach (var ctor in type.GetConstructors(flags))
        {
            members.Add($"ctor({Parameters(ctor)})");
        }

        foreach (var method in type.GetMethods(flags).Where(m => !m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal)))
        {
            var generic = method.IsGenericMethod ? "<" + string.Join(", ", method.GetGenericArguments().Select(Name)) + ">" : "";
            members.Add($"{(method.IsStatic ? "static " : "")}{Name(method.ReturnType)} {method.Name}{generic}({Parameters(method)})");
        }

        foreach (var property in type.GetProperties(flags))
        {
            var accessors = (property.GetMethod?.IsPublic == true ? "get; " : "") + (property.SetMethod?.IsPublic == true ? "set; " : "");
            var isStatic = (property.GetMethod ?? property.SetMethod)?.IsStatic == true ? "static " : "";
            members.Add($"{isStatic}{Name(property.PropertyType)} {property.Name} {{ {accessors}}}");
        }

        foreach (var field in type.GetFields(flags).Where(f => !type.IsEnum || f.IsStatic))
        {
            members.Add($"{(field.IsStatic ? "static " : "")}{Name(field.FieldType)} {field.Name}");
        }

        return members.Order(StringComparer.Ordinal);
    }

    private static string Parameters(MethodBase method) =>
        string.Join(", ", method.GetParameters().Select(p => $"{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : "")}"));

    private static string Kind(Type type) =>
        type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct" : type.IsAbstract && type.IsSealed ? "static class" : "class";

    private static string Bases(Type type)
    {
        var bases = new List<string>();
        if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
        {
            bases.Add(Name(b));
        }

        bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? "" : " : " + string.Join(", ", bases);
    }

    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsByRef)
        {
            return "ref " + Name(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }

        var name = (type.IsNested ? Name(type.DeclaringType!) + "." : type.Namespace + ".") + type.Name;
        if (!type.IsGenericType)
        {
            return name;
        }

        return name[..name.IndexOf('`')] + "<" + string.Join(", ", type.GetGenericArguments().Select(Name)) + ">";
    }

    /// <summary>The test project's folder: the first one above the test binaries that holds its project file.</summary>
    private static string SourceFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RayOrleans.Tests.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("The test project folder is not above " + AppContext.BaseDirectory);
    }
}
