using System.Text;
using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans.Logs;

/// <summary>
/// The console of a node process, made task-aware (Ray's log_to_driver): text written by code running as a
/// task or actor call of a job goes, line by line, to that job's driver (through <see cref="TaskLogForwarder"/>);
/// everything else, the node's own output and work outside any job, goes to the console as before. Tasks share
/// their node's process, so this is the only place their output can be told apart: by the running task's
/// <see cref="WorkerContext"/>, which flows through the task's awaits.
/// </summary>
internal sealed class TaskOutput : TextWriter
{
    private static int _installed;

    /// <summary>The longest line kept waiting for its newline; longer ones are sent in pieces of this size.</summary>
    private const int MaxLine = 64 * 1024;
    private readonly TextWriter _console;
    private readonly bool _isError;

    private TaskOutput(TextWriter console, bool isError)
    {
        _console = console;
        _isError = isError;
    }

    /// <summary>Puts task-aware writers in front of the process's standard output and error, once per process.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 0)
        {
            Console.SetOut(TextWriter.Synchronized(new TaskOutput(Console.Out, isError: false)));
            Console.SetError(TextWriter.Synchronized(new TaskOutput(Console.Error, isError: true)));
        }
    }

    public override Encoding Encoding => _console.Encoding;

    public override void Write(char value)
    {
        if (Capture() is not { } context)
        {
            _console.Write(value);
            return;
        }

        Append(context, value.ToString());
    }

    public override void Write(string? value)
    {
        if (Capture() is not { } context)
        {
            _console.Write(value);
            return;
        }

        Append(context, value ?? "");
    }

    public override void Write(char[] buffer, int index, int count)
    {
        if (Capture() is not { } context)
        {
            _console.Write(buffer, index, count);
            return;
        }

        Append(context, new string(buffer, index, count));
    }

    public override void WriteLine(string? value)
    {
        if (Capture() is not { } context)
        {
            _console.WriteLine(value);
            return;
        }

        Append(context, (value ?? "") + "\n");
    }

    public override void Flush() => _console.Flush();

    /// <summary>The running task's context when its output goes to a driver; null for everything else.</summary>
    private static WorkerContext? Capture() =>
        WorkerContext.Current is { JobId.Length: > 0, Runtime.LocalNodeId: not null } context ? context : null;

    /// <summary>Adds text to the task's pending line; each complete line is sent.</summary>
    private void Append(WorkerContext context, string text)
    {
        var pending = _isError ? context.PendingError : context.PendingOutput;
        lock (pending)
        {
            foreach (var c in text)
            {
                if (c == '\n')
                {
                    if (pending.Length > 0 && pending[^1] == '\r')
                    {
                        pending.Length--;
                    }

                    Send(context, pending.ToString(), _isError);
                    pending.Clear();
                }
                else
                {
                    pending.Append(c);
                    if (pending.Length >= MaxLine)
                    {
                        Send(context, pending.ToString(), _isError); // a line that never ends (a progress bar) goes in pieces
                        pending.Clear();
                    }
                }
            }
        }
    }

    /// <summary>Sends one line of a task's output to its job.</summary>
    public static void Send(WorkerContext context, string text, bool isError) =>
        context.Runtime.TaskLogs.Add(context.JobId, new LogLine
        {
            Time = DateTime.UtcNow, Source = context.Name, NodeId = context.Runtime.LocalNodeId!, Pid = Environment.ProcessId,
            IsError = isError, Text = text, TaskId = context.TaskId,
        });
}
