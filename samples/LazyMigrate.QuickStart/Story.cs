using System.Globalization;

namespace LazyMigrate.QuickStart;

/// <summary>
/// Prints the quick start step by step and checks each claim it makes, so the sample doubles as a smoke test.
/// </summary>
public sealed class Story
{
    private int _step;

    /// <summary>Gets the number of claims checked so far.</summary>
    public int Checks { get; private set; }

    /// <summary>Gets the number of claims that did not hold.</summary>
    public int Failures { get; private set; }

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public void Step(string title)
    {
        Console.WriteLine();
        Console.WriteLine($"{++_step}. {title}");
    }

    public static void Say(string line) => Console.WriteLine($"   {line}");

    /// <summary>Prints a claim, marked as holding or not.</summary>
    public void Expect(bool holds, string claim)
    {
        Checks++;
        if (!holds)
        {
            Failures++;
        }

        Console.WriteLine($"   {(holds ? "ok  " : "FAIL")} {claim}");
    }
}
