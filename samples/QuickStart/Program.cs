using QuickStart;
using RayOrleans;

// An embedded single-node cluster in this process; Ray.InitAsync("redis://127.0.0.1:6379") joins a real one.
await using var ray = await Ray.InitAsync();

// Tasks: public static methods, run remotely, returning refs at once.
ObjectRef<int> a = ray.Task(MathTasks.Square, 4).Remote();
ObjectRef<int> b = ray.Task(MathTasks.Add, a, 1).Remote();      // a ref argument: Add waits for Square
Console.WriteLine($"Square(4) + 1 = {await b}");

int[] squares = await ray.GetAsync(Enumerable.Range(0, 8).Select(i => ray.Task(MathTasks.Square, i).Remote()));
Console.WriteLine($"squares: [{string.Join(", ", squares)}]");

// An actor: one remote Counter; calls through a handle run in order.
var counter = ray.Actor(() => new Counter()).Remote();
int[] sums = await ray.GetAsync(Enumerable.Range(0, 10).Select(i => counter.Task(c => c.Add(i)).Remote()));
Console.WriteLine($"counter sums: [{string.Join(", ", sums)}]");

// Objects: put once, pass the ref to many tasks.
var numbers = await ray.PutAsync(Enumerable.Range(1, 100).ToArray());
Console.WriteLine($"sum of the put array = {await ray.Task(MathTasks.Sum, numbers).Remote()}");

// A streaming generator: refs arrive as the task yields.
await foreach (var tick in ray.Task(MathTasks.Countdown, 3).Remote())
{
    Console.WriteLine($"countdown: {await tick}");
}

// An error: the remote exception comes back typed, with the task's name and the remote stack.
try
{
    await ray.Task(MathTasks.Divide, 1, 0).Remote();
}
catch (RayTaskException e)
{
    Console.WriteLine($"caught {nameof(RayTaskException)} from '{e.TaskName}': {e.RemoteExceptionType}: {e.RemoteMessage}");
}
