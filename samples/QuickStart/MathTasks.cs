namespace QuickStart;

/// <summary>Remote functions: public static methods.</summary>
public static class MathTasks
{
    public static int Square(int x) => x * x;

    public static int Add(int x, int y) => x + y;

    public static long Sum(int[] values) => values.Sum(v => (long)v);

    public static int Divide(int x, int y) => x / y;

    public static async IAsyncEnumerable<int> Countdown(int from)
    {
        for (var i = from; i > 0; i--)
        {
            await Task.Yield();
            yield return i;
        }
    }
}
