using LazyMigrate.TestKit;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>An entity with a numeric key.</summary>
public sealed class Order
{
    public int Number { get; set; }

    public int Version { get; set; }
}

/// <summary>An entity whose key can only be set at construction or through EF Core (an init-only property).</summary>
public sealed record Note(string Text)
{
    public long Id { get; init; }
}

/// <summary>
/// The context of the tests: the TestKit's customers, numbered orders, notes, and LazyMigrate's entries and outbox.
/// </summary>
public sealed class StoreDb(DbContextOptions<StoreDb> options) : DbContext(options)
{
    public DbSet<LegacyCustomer> LegacyCustomers => Set<LegacyCustomer>();

    public DbSet<Customer> Customers => Set<Customer>();

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Note> Notes => Set<Note>();

    public DbSet<LazyMigrateEntry> Entries => Set<LazyMigrateEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // String ids scan in ordinal order only under a binary collation: SQLite's default is one; on PostgreSQL, "C".
        string? binary = Database.IsNpgsql() ? "C" : null;
        modelBuilder.Entity<LegacyCustomer>(e =>
        {
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever().UseCollation(binary);
        });
        modelBuilder.Entity<Customer>(e =>
        {
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever().UseCollation(binary);
        });
        modelBuilder.Entity<Order>(e =>
        {
            e.HasKey(o => o.Number);
            e.Property(o => o.Number).ValueGeneratedNever();
        });
        modelBuilder.Entity<Note>(e =>
        {
            e.HasKey(n => n.Id);
            e.Property(n => n.Id).ValueGeneratedNever();
        });
        modelBuilder.AddLazyMigrateEntries();
        modelBuilder.AddLazyMigrateOutbox();
        modelBuilder.AddLazyMigrateBackfill();
    }
}
