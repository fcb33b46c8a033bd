using System.ComponentModel;
using System.Diagnostics;
using RayOrleans.Cli.Nodes;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo microbenchmark [ARGS...]</c>: Ray's <c>ray microbenchmark</c>, which here is the benchmark program
/// <c>benchmarks/RayOrleans.Benchmarks</c> of the repository (it is not shipped in the tool package). Its built
/// Release dll when there is one, else <c>dotnet run -c Release --project</c>; <c>RAYO_BENCHMARKS_PATH</c> names
/// a dll elsewhere. ARGS go to it unchanged (Program.cs hands them over before any parsing); its exit code is rayo's.
/// </summary>
internal sealed class MicrobenchmarkCommand : AsyncCommand<MicrobenchmarkCommand.Settings>
{
    /// <summary>The environment variable that names the benchmark program's dll.</summary>
    public const string EnvironmentVariable = "RAYO_BENCHMARKS_PATH";

    private const string ProjectFolder = "benchmarks/RayOrleans.Benchmarks";

    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[ARGS]")]
        [Description("Arguments of the benchmark program (rayo microbenchmark --help-benchmark shows them: it passes --help on).")]
        public string[] Arguments { get; set; } = [];
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        RunAsync(settings.Arguments, cancellationToken);

    /// <summary>Runs the benchmark program with <paramref name="arguments"/>, its output on rayo's console.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(DotnetHost.Path) { UseShellExecute = false };
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } explicitDll)
        {
            if (!File.Exists(explicitDll))
            {
                throw CliException.BadInput($"{EnvironmentVariable}: '{explicitDll}' is not a file.");
            }

            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(Path.GetFullPath(explicitDll));
        }
        else
        {
            var project = FindProject()
                ?? throw CliException.Failure($"the benchmark program ({ProjectFolder}) is part of the RayOrleans repository: run rayo microbenchmark inside a checkout, or set {EnvironmentVariable} to its dll.");
            var dll = Path.Combine(project, "bin", "Release", "net10.0", "RayOrleans.Benchmarks.dll");
            if (File.Exists(dll))
            {
                start.ArgumentList.Add("exec");
                start.ArgumentList.Add(dll);
            }
            else
            {
                start.ArgumentList.Add("run");
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add("Release");
                start.ArgumentList.Add("--project");
                start.ArgumentList.Add(project);
                start.ArgumentList.Add("--");
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument == "--help-benchmark" ? "--help" : argument);
        }

        using var process = Process.Start(start) ?? throw CliException.Failure("the benchmark program did not start.");
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return process.ExitCode;
    }

    /// <summary>The benchmark project's folder, searched upward from the working directory and then from rayo's own folder.</summary>
    private static string? FindProject()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var project = Path.Combine(directory.FullName, ProjectFolder);
                if (File.Exists(Path.Combine(project, "RayOrleans.Benchmarks.csproj")))
                {
                    return project;
                }
            }
        }

        return null;
    }
}
