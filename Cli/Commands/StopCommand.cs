using System.ComponentModel;
using System.Globalization;
using RayOrleans.Cli.Nodes;
using RayOrleans.Cli.Session;
using RayOrleans.Cli.Rendering;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RayOrleans.Cli.Commands;

/// <summary>
/// <c>rayo stop</c>: Ray's <c>ray stop</c>. Every node this machine's session started gets SIGTERM (the host
/// leaves the cluster gracefully), then SIGKILL if still running after the grace period; what was stopped is
/// reported and removed from the session. Workers go first, then the head.
/// </summary>
internal sealed class StopCommand : AsyncCommand<StopCommand.Settings>
{
    internal sealed class Settings : SessionSettings
    {
        [CommandOption("-f|--force")]
        [Description("SIGKILL at once, without a graceful shutdown.")]
        public bool Force { get; set; }

        [CommandOption("-g|--grace-period <SECONDS>")]
        [Description("Seconds a node gets to shut down after SIGTERM before it is killed. Default: 16 (Ray's).")]
        public double GracePeriod { get; set; } = 16;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.GracePeriod is < 0 or > 3600 || double.IsNaN(settings.GracePeriod))
        {
            throw CliException.BadInput($"--grace-period: {settings.GracePeriod.ToString(CultureInfo.InvariantCulture)} is not a number of seconds between 0 and 3600.");
        }

        var session = SessionStore.Open(settings.SessionDir);
        var recorded = session.Read();
        if (recorded.Count == 0)
        {
            AnsiConsole.WriteLine($"No nodes were started from the session {session.Directory}.");
            return ExitCodes.Success;
        }

        var outcome = recorded.ToDictionary(n => n.Pid, n => NodeProcesses.IsAlive(n) ? "" : "was not running");
        var running = recorded.Where(n => outcome[n.Pid] == "").ToList();

        // Workers first, then the head: with development clustering the head holds the membership table, and
        // a worker whose head is gone cannot leave the cluster gracefully.
        foreach (var phase in new[] { running.Where(n => !n.IsHead).ToList(), running.Where(n => n.IsHead).ToList() })
        {
            await StopAsync(phase, settings, outcome, cancellationToken);
        }

        var survivors = running.Where(NodeProcesses.IsAlive).ToList();
        foreach (var node in survivors)
        {
            outcome[node.Pid] = "still running";
        }

        var survivorPids = survivors.Select(n => n.Pid).ToHashSet();
        session.Update(nodes => nodes.RemoveAll(n => recorded.Any(r => r.Pid == n.Pid) && !survivorPids.Contains(n.Pid)));

        var table = new Table().Border(TableBorder.Simple).AddColumns("ROLE", "PID", "SILO", "HTTP", "RESULT");
        foreach (var node in recorded)
        {
            table.AddRow(new Text(node.Role), new Text(node.Pid.ToString(CultureInfo.InvariantCulture)), new Text(node.SiloEndpoint), new Text(node.HttpAddress), new Text(outcome[node.Pid]));
        }

        TableOutput.Write(table);
        var stopped = running.Count - survivors.Count;
        AnsiConsole.WriteLine($"Stopped {stopped} node{(stopped == 1 ? "" : "s")}.");
        if (survivors.Count > 0)
        {
            throw CliException.Failure($"{survivors.Count} node(s) still run after SIGKILL: pid {string.Join(", ", survivors.Select(n => n.Pid))}.");
        }

        return ExitCodes.Success;
    }

    /// <summary>SIGTERM (or SIGKILL with --force), wait up to the grace period, SIGKILL what is left and wait for that too.</summary>
    private static async Task StopAsync(List<SessionNode> nodes, Settings settings, Dictionary<int, string> outcome, CancellationToken cancellationToken)
    {
        foreach (var node in nodes)
        {
            if (settings.Force)
            {
                NodeProcesses.Kill(node);
            }
            else
            {
                NodeProcesses.Terminate(node);
            }
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(settings.Force ? 0 : settings.GracePeriod);
        while (nodes.Any(NodeProcesses.IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken); // poll interval, bounded by the grace period
        }

        foreach (var node in nodes)
        {
            if (NodeProcesses.IsAlive(node))
            {
                NodeProcesses.Kill(node);
                outcome[node.Pid] = "killed (SIGKILL)";
            }
            else
            {
                outcome[node.Pid] = settings.Force ? "killed (SIGKILL)" : "stopped (SIGTERM)";
            }
        }

        var killDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (nodes.Any(NodeProcesses.IsAlive) && DateTime.UtcNow < killDeadline)
        {
            await Task.Delay(50, cancellationToken); // a SIGKILLed process is gone within milliseconds
        }
    }
}
