using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RayOrleans.Logs;
using RayOrleans.Runtime;

namespace RayOrleans;

/// <summary>
/// The logger <c>Ray.GetLogger</c> hands out: inside a task or actor of a job, an entry becomes a line of the
/// job's output (what the driver prints); elsewhere it goes to the process's own logging.
/// </summary>
internal sealed class TaskLogger(string category, ILoggerFactory? fallback) : ILogger
{
    private readonly ILogger _outside = fallback?.CreateLogger(category) ?? NullLogger.Instance;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => _outside.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.None)
        {
            return;
        }

        if (WorkerContext.Current is { JobId.Length: > 0, Runtime.LocalNodeId: not null } context)
        {
            var text = $"[{logLevel}] {category}: {formatter(state, exception)}" + (exception is null ? "" : $" {exception.GetType().FullName}: {exception.Message}");
            TaskOutput.Send(context, text, isError: logLevel >= LogLevel.Warning);
            return;
        }

        if (fallback is null)
        {
            Console.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}");
            return;
        }

        _outside.Log(logLevel, eventId, state, exception, formatter);
    }
}
