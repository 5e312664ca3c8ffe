using System.Globalization;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// The ids an old-store suite uses and the order the store must scan them in: a store whose key is a number or a
/// UUID accepts only ids in the key's canonical form and orders them as the key does.
/// </summary>
public abstract class ConformanceIds
{
    /// <summary>Ordinal order of arbitrary strings (a text key under a binary collation).</summary>
    public static ConformanceIds Ordinal { get; } = new OrdinalIds();

    /// <summary>Numeric order of integer keys (<c>integer</c>, <c>bigint</c>): "9" before "10".</summary>
    public static ConformanceIds Integer { get; } = new IntegerIds();

    /// <summary>Byte order of UUID keys, which is the ordinal order of their canonical lower-case form.</summary>
    public static ConformanceIds Uuid { get; } = new UuidIds();

    /// <summary>Gets ids whose order tells the store's order from a wrong one (for numbers, text order).</summary>
    public abstract IReadOnlyList<string> Mixed { get; }

    /// <summary>Gets the store's order of ids.</summary>
    public abstract IComparer<string> Order { get; }

    /// <summary>
    /// The <paramref name="n"/>th id (from 0); ids ascend with <paramref name="n"/> in the store's order.
    /// </summary>
    public abstract string Id(int n);

    private sealed class OrdinalIds : ConformanceIds
    {
        // Ordinal order, not culture order: upper case before lower case, digits before letters, "10" before "9".
        public override IReadOnlyList<string> Mixed { get; } = ["b", "B", "a1", "a", "Z", "10", "9", "a-b", "a_b"];

        public override IComparer<string> Order => StringComparer.Ordinal;

        public override string Id(int n) => string.Create(CultureInfo.InvariantCulture, $"id-{n:D6}");
    }

    private sealed class IntegerIds : ConformanceIds
    {
        // Text order would put 10, 11 and 100 before 2.
        public override IReadOnlyList<string> Mixed { get; } = ["11", "2", "100", "1", "10", "9", "3", "20"];

        public override IComparer<string> Order { get; } =
            Comparer<string>.Create(
                (x, y) =>
                    long.Parse(x, CultureInfo.InvariantCulture).CompareTo(long.Parse(y, CultureInfo.InvariantCulture))
            );

        public override string Id(int n) => (n + 1).ToString(CultureInfo.InvariantCulture);
    }

    private sealed class UuidIds : ConformanceIds
    {
        public override IReadOnlyList<string> Mixed { get; } =
        [
            "b0000000-0000-0000-0000-000000000000",
            "0000000a-0000-0000-0000-000000000000",
            "00000000-0000-0000-0000-00000000000f",
            "f0000000-0000-0000-0000-000000000001",
            "00000009-0000-0000-0000-000000000000",
            "00000000-0000-0000-0000-000000000010",
        ];

        public override IComparer<string> Order => StringComparer.Ordinal;

        public override string Id(int n) =>
            string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{n:D12}");
    }
}
