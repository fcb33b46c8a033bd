using System.Collections.Concurrent;

namespace RayOrleans.Tests.Functions;

/// <summary>
/// Shared state between tests and the remote functions they run: the silos are in this process, so a
/// function can report what it did (started, saw cancellation) and wait for the test's go-ahead.
/// Keys are unique per test.
/// </summary>
public static class Probe
{
    private static readonly ConcurrentDictionary<string, int> Counters = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    public static int Increment(string key) => Counters.AddOrUpdate(key, 1, (_, v) => v + 1);

    public static int Add(string key, int delta) => Counters.AddOrUpdate(key, delta, (_, v) => v + delta);

    public static int Count(string key) => Counters.GetValueOrDefault(key);

    public static Task Gate(string key) =>
        Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public static void Open(string key) =>
        Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public static string NewKey() => Guid.NewGuid().ToString("N");
}
