using LazyMigrate.Benchmarks.Postgres;

namespace LazyMigrate.Benchmarks.Backfill;

/// <summary>
/// A backfilled customer as the new store holds it: the legacy name split in two, the rest as it was. Both sides of
/// the backfill benchmarks map with <see cref="From"/>.
/// </summary>
public sealed record BackfilledCustomer(string FirstName, string LastName, string? Phone, int CreditLimit)
{
    /// <summary>The mapper both sides use.</summary>
    public static BackfilledCustomer From(LegacyCustomer old)
    {
        int space = old.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new BackfilledCustomer(old.FullName[..space], old.FullName[(space + 1)..], old.Phone, old.CreditLimit);
    }
}
