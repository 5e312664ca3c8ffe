using LazyMigrate.EntityFrameworkCore;
using LazyMigrate.QuickStart;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.WebService;

/// <summary>
/// The new database on SQLite: the customers (a shadow key, the entity id), LazyMigrate's entries and its outbox, so
/// that a save and its write-back intent commit in one transaction.
/// </summary>
public sealed class CustomerDb(DbContextOptions<CustomerDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Customer>(e =>
        {
            e.ToTable("customers");
            e.Property<string>("Id").ValueGeneratedNever();
            e.HasKey("Id");
        });
        modelBuilder.AddLazyMigrateEntries();
        modelBuilder.AddLazyMigrateOutbox();
    }
}
