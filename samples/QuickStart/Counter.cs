namespace QuickStart;

/// <summary>An actor: an ordinary class whose instance lives on one node.</summary>
public sealed class Counter
{
    private int _total;

    public int Add(int value) => _total += value;

    public int Total() => _total;
}
