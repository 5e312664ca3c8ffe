using System.Globalization;

namespace LazyMigrate.QuickStart;

/// <summary>
/// The legacy model, as the old API knows a row of <c>legacy_customers</c>: one name field, a formatted phone number,
/// and a credit limit the new model does not carry. The key stays in the table's <c>id</c> column, and the table's
/// <c>updated_at</c> column is not mapped at all: the old API leaves it to the database.
/// </summary>
public sealed record LegacyCustomer(string FullName, string Phone, int CreditLimit);

/// <summary>
/// The new model: the name split in two, the phone number in E.164 form. No id member: the new store keeps the id
/// beside the entity (a shadow key in the new database's <c>CustomerDb</c>).
/// </summary>
public sealed record Customer(string FirstName, string LastName, string Phone);

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

    /// <summary>
    /// The credit limit of a customer the legacy application did not set one for: the column's <c>DEFAULT</c>.
    /// </summary>
    public const int DefaultCreditLimit = 0;

    /// <summary>
    /// The id of the <paramref name="n"/>th customer, counting from 1: the legacy table's integer key, as a string.
    /// </summary>
    public static string Id(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The one record of <paramref name="records"/> seeded that the mapper cannot map (a name without a last name, as
    /// real legacy data has): the second to last, past every record the story reads before its backfill.
    /// </summary>
    public static int Unmappable(int records) => records - 1;

    /// <summary>
    /// The <paramref name="n"/>th legacy record of <paramref name="records"/>, counting from 1 (the table gives it the
    /// key n).
    /// </summary>
    public static LegacyCustomer Create(int n, int records) =>
        n == Unmappable(records) ? Create(n) with { FullName = "Cher" } : Create(n);

    /// <summary>The <paramref name="n"/>th legacy record, a mappable one.</summary>
    public static LegacyCustomer Create(int n) =>
        new(
            $"{FirstNames[(n - 1) % FirstNames.Length]} {LastNames[(n - 1) / FirstNames.Length % LastNames.Length]}",
            string.Create(CultureInfo.InvariantCulture, $"(555) 010-{n % 10_000:D4}"),
            (n % 5 + 1) * 1_000
        );
}
