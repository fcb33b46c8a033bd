using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace RayOrleans.Silo.Configuration;

/// <summary>Fills the <c>Ray</c> section from the node host's sources and binds it to <see cref="SiloHostOptions"/>.</summary>
internal static class SiloHostConfigurationExtensions
{
    /// <summary>
    /// Adds the <c>RAY_*</c> environment variables and then the command line, so the command line wins over
    /// the environment, which wins over appsettings.json (added before by the host builder).
    /// </summary>
    public static IConfigurationBuilder AddSiloHostSources(this IConfigurationBuilder configuration, string[] args)
    {
        SiloHostSwitches.CheckArguments(args);
        configuration.AddInMemoryCollection(SiloHostSwitches.FromEnvironment(Environment.GetEnvironmentVariables()));
        configuration.AddCommandLine(args, SiloHostSwitches.CommandLineMappings());
        return configuration;
    }

    /// <summary>
    /// Binds and validates the options; throws <see cref="InvalidSiloOptionException"/> naming the switch of
    /// the first value that does not parse or is out of range, or the key that is unknown.
    /// </summary>
    public static SiloHostOptions GetSiloHostOptions(this IConfiguration configuration)
    {
        var section = configuration.GetSection(SiloHostOptions.SectionName);
        CheckConversions(section);

        // On the command line and in RAY_RESOURCES the resources are one JSON value, which the binder cannot
        // read into a dictionary; in appsettings.json they are an object, which it can. So the JSON value is
        // parsed here and left out of what the binder sees; as the later source, it wins over the object.
        var resourcesJson = section.GetSection(nameof(SiloHostOptions.Resources)).Value;
        var labelsJson = section.GetSection(nameof(SiloHostOptions.Labels)).Value;
        var bindable = new ConfigurationBuilder()
            .AddInMemoryCollection(section.AsEnumerable(makePathsRelative: true)
                .Where(p => p.Value is not null &&
                    !p.Key.Equals(nameof(SiloHostOptions.Resources), StringComparison.OrdinalIgnoreCase) &&
                    !p.Key.Equals(nameof(SiloHostOptions.Labels), StringComparison.OrdinalIgnoreCase)))
            .Build();
        var options = new SiloHostOptions();
        try
        {
            bindable.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            // CheckConversions has ruled out values that do not parse, so what is left is a key that no
            // property takes (a typo in appsettings.json or a --Ray:Key switch).
            throw new InvalidSiloOptionException($"the \"{SiloHostOptions.SectionName}\" configuration section is invalid: {e.Message}", e);
        }

        if (resourcesJson is not null)
        {
            options.Resources = ParseResources(resourcesJson);
        }

        if (labelsJson is not null)
        {
            options.Labels = ParseLabels(labelsJson);
        }

        options.Validate();
        return options;
    }

    /// <summary>Parses a JSON object of resource amounts; throws naming <c>--resources</c> when it is not one.</summary>
    public static Dictionary<string, double> ParseResources(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new Dictionary<string, double>(StringComparer.Ordinal);
        }

        Dictionary<string, double>? resources;
        try
        {
            resources = JsonSerializer.Deserialize<Dictionary<string, double>>(json);
        }
        catch (JsonException e)
        {
            throw InvalidSiloOptionException.For(
                nameof(SiloHostOptions.Resources),
                $"'{json}' is not a JSON object of resource amounts like {{\"accelerator_x\": 2}} ({e.Message})");
        }

        return resources is null
            ? throw InvalidSiloOptionException.For(nameof(SiloHostOptions.Resources), $"'{json}' is not a JSON object of resource amounts.")
            : new Dictionary<string, double>(resources, StringComparer.Ordinal);
    }

    /// <summary>Parses a JSON object of node labels; throws naming <c>--labels</c> when it is not one.</summary>
    public static Dictionary<string, string> ParseLabels(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(json) is { } labels
                ? new Dictionary<string, string>(labels, StringComparer.Ordinal)
                : throw InvalidSiloOptionException.For(nameof(SiloHostOptions.Labels), $"'{json}' is not a JSON object of labels.");
        }
        catch (JsonException e)
        {
            throw InvalidSiloOptionException.For(nameof(SiloHostOptions.Labels), $"'{json}' is not a JSON object of string labels like {{\"zone\": \"a\"}} ({e.Message})");
        }
    }

    /// <summary>
    /// Converts each switch's value the way the binder will, so a value that does not parse is reported by
    /// its switch ("--silo-port: 'abc' is not ...") rather than by the binder's exception.
    /// </summary>
    private static void CheckConversions(IConfigurationSection section)
    {
        foreach (var option in SiloHostSwitches.All)
        {
            if (option.Property == nameof(SiloHostOptions.Labels))
            {
                continue; // strings: nothing to convert
            }

            if (option.Property == nameof(SiloHostOptions.Resources))
            {
                // The object form (appsettings.json, --Ray:Resources:name=2): each child is an amount.
                foreach (var child in section.GetSection(option.Property).GetChildren())
                {
                    if (!double.TryParse(child.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    {
                        throw InvalidSiloOptionException.For(option.Property, $"'{child.Key}' is '{child.Value}', not a number.");
                    }
                }

                continue;
            }

            var value = section[option.Property];
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            var type = typeof(SiloHostOptions).GetProperty(option.Property, BindingFlags.Public | BindingFlags.Instance)!.PropertyType;
            var target = Nullable.GetUnderlyingType(type) ?? type;
            bool valid;
            try
            {
                valid = TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value) is not null;
            }
            catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException || e.InnerException is FormatException or OverflowException)
            {
                valid = false;
            }

            if (!valid)
            {
                throw InvalidSiloOptionException.For(option.Property, $"'{value}' is not {Describe(target)}.");
            }
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(int) => "a whole number",
        _ when type == typeof(long) => "a whole number of bytes",
        _ when type == typeof(double) => "a number (" + 1.5.ToString(CultureInfo.InvariantCulture) + ")",
        _ when type == typeof(bool) => "true or false",
        _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant())),
        _ => $"a {type.Name}",
    };
}
