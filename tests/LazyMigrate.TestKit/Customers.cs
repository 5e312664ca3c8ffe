namespace LazyMigrate.TestKit;

/// <summary>
/// The legacy entity of the conformance suites: plain settable properties, so EF Core and JSON both map it.
/// </summary>
public sealed class LegacyCustomer
{
    public string Id { get; set; } = "";

    public string FullName { get; set; } = "";

    public int Version { get; set; }

    public static LegacyCustomer Create(string id, int version) =>
        new()
        {
            Id = id,
            FullName = $"First{version} Last{version}",
            Version = version,
        };
}

/// <summary>The new entity of the conformance suites.</summary>
public sealed class Customer
{
    public string Id { get; set; } = "";

    public string FirstName { get; set; } = "";

    public string LastName { get; set; } = "";

    public int Version { get; set; }

    public static Customer Create(string id, int version) =>
        new()
        {
            Id = id,
            FirstName = $"First{version}",
            LastName = $"Last{version}",
            Version = version,
        };
}

/// <summary>Maps customers both ways.</summary>
public sealed class CustomerMapper
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMapper<LegacyCustomer, Customer>
{
    public Customer Map(LegacyCustomer entity)
    {
        int space = entity.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new Customer
        {
            Id = entity.Id,
            FirstName = entity.FullName[..space],
            LastName = entity.FullName[(space + 1)..],
            Version = entity.Version,
        };
    }

    public LegacyCustomer MapBack(Customer entity) =>
        new()
        {
            Id = entity.Id,
            FullName = $"{entity.FirstName} {entity.LastName}",
            Version = entity.Version,
        };
}
