using System.Globalization;

namespace LazyMigrate.QuickStart;

/// <summary>
/// The legacy model, as the old database and the old API know it: one name field, a formatted phone number.
/// </summary>
public sealed record LegacyCustomer(string Id, string FullName, string Phone);

/// <summary>The new model: the name split in two, the phone number in E.164 form.</summary>
public sealed record Customer(string Id, string FirstName, string LastName, string Phone);

/// <summary>Makes up the legacy records the quick start seeds, and their ids.</summary>
public static class LegacyCustomers
{
    private static readonly string[] FirstNames =
    [
        "Ada",
        "Alan",
        "Grace",
        "Edsger",
        "Barbara",
        "Donald",
        "Margaret",
        "Ken",
        "Frances",
        "John",
    ];
    private static readonly string[] LastNames =
    [
        "Lovelace",
        "Turing",
        "Hopper",
        "Dijkstra",
        "Liskov",
        "Knuth",
        "Hamilton",
        "Thompson",
        "Allen",
        "Backus",
    ];

    /// <summary>The id of the <paramref name="n"/>th customer, counting from 1.</summary>
    public static string Id(int n) => string.Create(CultureInfo.InvariantCulture, $"customer-{n:D6}");

    /// <summary>The <paramref name="n"/>th legacy record, counting from 1.</summary>
    public static LegacyCustomer Create(int n) =>
        new(
            Id(n),
            $"{FirstNames[(n - 1) % FirstNames.Length]} {LastNames[(n - 1) / FirstNames.Length % LastNames.Length]}",
            string.Create(CultureInfo.InvariantCulture, $"(555) 010-{n % 10_000:D4}")
        );
}
