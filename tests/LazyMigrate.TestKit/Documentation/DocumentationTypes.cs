namespace LazyMigrate.TestKit.Documentation;

// The entity types and the mapper that the examples of README.md and docs/*.md use (the EF Core page has its own,
// in tests/LazyMigrate.DocumentationExamples.Tests, for its numbered legacy keys).

/// <summary>A customer as the legacy store keeps it: one name field.</summary>
public sealed record LegacyCustomer(string FullName, string Phone);

/// <summary>A customer as the new store keeps it.</summary>
public sealed record Customer(string FirstName, string LastName, string Phone);

/// <summary>
/// Maps customers both ways, so <c>AddMigrationMapper</c> registers it as the mapper and the reverse mapper.
/// </summary>
public sealed class CustomerMapper
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMapper<LegacyCustomer, Customer>
{
    public Customer Map(LegacyCustomer entity)
    {
        int space = entity.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new Customer(entity.FullName[..space], entity.FullName[(space + 1)..], entity.Phone);
    }

    public LegacyCustomer MapBack(Customer entity) => new($"{entity.FirstName} {entity.LastName}", entity.Phone);
}

/// <summary>An order as the legacy store keeps it: a decimal total.</summary>
public sealed record LegacyOrder(decimal Total);

/// <summary>An order as the new store keeps it: the total in cents.</summary>
public sealed record Order(long TotalCents);
