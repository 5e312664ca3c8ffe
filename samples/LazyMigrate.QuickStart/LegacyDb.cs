using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.QuickStart;

/// <summary>
/// The migration's view of the legacy table (SQLite): the columns the old model maps, by their names, and the
/// table's key as a shadow property, since <see cref="LegacyCustomer"/> has no id member. <c>updated_at</c> is not
/// mapped, so no write through this context ever touches it.
/// </summary>
public sealed class LegacyDb(DbContextOptions<LegacyDb> options) : DbContext(options)
{
    public DbSet<LegacyCustomer> Customers => Set<LegacyCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<LegacyCustomer>(e =>
        {
            e.ToTable(LegacyTable.Name);
            // The table assigns keys to the legacy application's inserts; LazyMigrate writes the key of the id.
            e.Property<int>("Id").HasColumnName("id").ValueGeneratedNever();
            e.HasKey("Id");
            e.Property(c => c.FullName).HasColumnName("full_name");
            e.Property(c => c.Phone).HasColumnName("phone");
            e.Property(c => c.CreditLimit).HasColumnName("credit_limit");
        });
}
