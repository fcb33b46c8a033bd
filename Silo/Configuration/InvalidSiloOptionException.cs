namespace RayOrleans.Silo.Configuration;

/// <summary>
/// Bad input to the node host: an unknown switch, a value that does not parse, or one out of range. The
/// host prints <see cref="Exception.Message"/> and exits with code 2, never a stack trace.
/// </summary>
internal sealed class InvalidSiloOptionException : Exception
{
    public InvalidSiloOptionException(string message)
        : base(message)
    {
    }

    public InvalidSiloOptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A bad value of one option, named by its switch and its environment variable (either may have set it).</summary>
    public static InvalidSiloOptionException For(string property, string problem)
    {
        var option = SiloHostSwitches.ForProperty(property);
        return new($"{option.Name} ({option.EnvironmentVariable}): {problem}");
    }
}
