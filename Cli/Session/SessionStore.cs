using System.Text.Json;
using System.Text.Json.Serialization;
using RayOrleans.Cli.Nodes;

namespace RayOrleans.Cli.Session;

/// <summary>
/// The session folder, Ray's <c>/tmp/ray/session_latest</c>: what this machine started (<c>session.json</c>:
/// pids, addresses) and each silo's log (<c>logs/</c>). Later commands find the cluster's address here, and
/// <c>rayo stop</c> finds what to stop. Default <c>$TMPDIR/rayorleans/session_latest</c>; <c>--session-dir</c> or
/// <c>RAYO_SESSION_DIR</c> put it elsewhere (tests, several clusters on one machine).
/// </summary>
internal sealed class SessionStore
{
    /// <summary>The environment variable that moves the session folder.</summary>
    public const string EnvironmentVariable = "RAYO_SESSION_DIR";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private SessionStore(string directory)
    {
        Directory = directory;
    }

    /// <summary>The session folder (absolute).</summary>
    public string Directory { get; }

    /// <summary>Where the silos' logs go.</summary>
    public string LogDirectory => Path.Combine(Directory, "logs");

    private string StateFile => Path.Combine(Directory, "session.json");

    /// <summary>The session at <paramref name="explicitDirectory"/>, else <c>RAYO_SESSION_DIR</c>, else the default folder.</summary>
    public static SessionStore Open(string? explicitDirectory)
    {
        var directory = !string.IsNullOrWhiteSpace(explicitDirectory) ? explicitDirectory
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : Path.Combine(Path.GetTempPath(), "rayorleans", "session_latest");
        return new SessionStore(Path.GetFullPath(directory));
    }

    /// <summary>The recorded nodes (none when the session folder does not exist yet).</summary>
    public IReadOnlyList<SessionNode> Read()
    {
        using var _ = Lock();
        return ReadUnlocked();
    }

    /// <summary>Changes the recorded nodes under the session's lock, so concurrent rayo commands do not lose each other's writes.</summary>
    public T Update<T>(Func<List<SessionNode>, T> change)
    {
        using var _ = Lock();
        var nodes = ReadUnlocked().ToList();
        var result = change(nodes);
        var temporary = StateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new SessionFile { Nodes = nodes }, Json));
        File.Move(temporary, StateFile, overwrite: true);
        return result;
    }

    /// <summary>The session's live head node, or null.</summary>
    public SessionNode? LiveHead() => Read().FirstOrDefault(n => n.IsHead && NodeProcesses.IsAlive(n));

    private List<SessionNode> ReadUnlocked()
    {
        if (!File.Exists(StateFile))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<SessionFile>(File.ReadAllText(StateFile), Json)?.Nodes ?? [];
        }
        catch (JsonException e)
        {
            throw CliException.Failure($"the session file {StateFile} is corrupt ({e.Message}); stop its silos by pid and delete the folder.", e);
        }
    }

    /// <summary>
    /// An exclusive, cross-process lock on this session folder, held while the state file is read and rewritten:
    /// a named mutex (per folder), which blocks until it is free rather than polling a lock file; one left by a
    /// rayo that died holding it is taken over. A few seconds of waiting for another rayo is normal, more is a failure.
    /// </summary>
    private SessionLock Lock()
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        catch (UnauthorizedAccessException e)
        {
            throw CliException.Failure($"cannot use the session folder {Directory}: {e.Message}", e);
        }

        var name = "rayo-session-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Directory)))[..32];
        var mutex = new Mutex(initiallyOwned: false, name);
        try
        {
            if (!mutex.WaitOne(TimeSpan.FromSeconds(15)))
            {
                mutex.Dispose();
                throw CliException.Failure($"the session {Directory} stayed locked by another rayo command for 15 s.");
            }
        }
        catch (AbandonedMutexException)
        {
            // Its holder exited without releasing it: the lock is ours now.
        }

        return new SessionLock(mutex);
    }

    /// <summary>Releases the session's mutex (on the thread that took it: the commands are synchronous here).</summary>
    private sealed class SessionLock(Mutex mutex) : IDisposable
    {
        public void Dispose()
        {
            mutex.ReleaseMutex();
            mutex.Dispose();
        }
    }

    private sealed class SessionFile
    {
        public List<SessionNode> Nodes { get; init; } = [];
    }
}
