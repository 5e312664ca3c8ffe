using System.Globalization;
using LazyMigrate.EntityFrameworkCore.Tests.Legacy;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests.ShadowKeys;

/// <summary>A new model with no id member: the id lives in the store, not in the entity.</summary>
public sealed record Customer(string FirstName, string LastName, string Phone);

/// <summary>The conformance suites' customers, whose version the phone number carries.</summary>
public static class Customers
{
    public static Customer Create(int version) =>
        new($"First{version}", $"Last{version}", version.ToString(CultureInfo.InvariantCulture));

    public static int VersionOf(Customer customer) => int.Parse(customer.Phone, CultureInfo.InvariantCulture);
}

/// <summary>The new store's context: the customer's key is a shadow property of the model.</summary>
public sealed class ShadowKeyDb(DbContextOptions<ShadowKeyDb> options) : DbContext(options)
{
    public const string KeyProperty = "Id";

    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Customer>(e =>
        {
            e.ToTable("customers");
            // String ids scan in ordinal order only under a binary collation: SQLite's default; on PostgreSQL, "C".
            e.Property<string>(KeyProperty).UseCollation(Database.IsNpgsql() ? "C" : null);
            e.HasKey(KeyProperty);
        });
        modelBuilder.AddLazyMigrateEntries();
    }
}

/// <summary>Maps the legacy row to the id-less customer, and merges a saved customer back into the row.</summary>
public sealed class ContactMapper
    : IMigrationMapper<LegacyContact, Customer>,
        IReverseMigrationMerger<LegacyContact, Customer>
{
    public Customer Map(LegacyContact entity)
    {
        int space = entity.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new Customer(entity.FullName[..space], entity.FullName[(space + 1)..], entity.Phone ?? "");
    }

    /// <summary>Only what the new model owns changes; the rest of the row (UpdatedAt) is the current one's.</summary>
    public LegacyContact MergeBack(Customer entity, LegacyContact? current)
    {
        LegacyContact merged = current ?? new LegacyContact();
        merged.FullName = $"{entity.FirstName} {entity.LastName}";
        merged.Phone = entity.Phone;
        return merged;
    }
}
