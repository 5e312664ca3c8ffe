using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.EntityFrameworkCore.Tests.Examples;

// The types of "An existing legacy table" in docs/entity-framework-core.md.

public sealed class LegacyCustomer
{
    public int Id { get; set; }

    public string FullName { get; set; } = "";

    public string? Phone { get; set; }

    public DateTime? UpdatedAt { get; set; }
}

public sealed record Customer(string FirstName, string LastName, string Phone);

public sealed class LegacyDb(DbContextOptions<LegacyDb> options) : DbContext(options)
{
    public DbSet<LegacyCustomer> Customers => Set<LegacyCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<LegacyCustomer>(e =>
        {
            e.ToTable("legacy_customers");
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).HasColumnName("id").ValueGeneratedNever(); // serial, but the store sends keys
            e.Property(c => c.FullName).HasColumnName("full_name");
            e.Property(c => c.Phone).HasColumnName("phone");
            e.Property(c => c.UpdatedAt).HasColumnName("updated_at").HasDefaultValueSql("now()");
        });
    }
}

public sealed class CustomerDb(DbContextOptions<CustomerDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Customer>(e =>
        {
            e.Property<string>("Id").UseCollation("C"); // a shadow key: the new model has no Id member
            e.HasKey("Id");
        });
        modelBuilder.AddLazyMigrateEntries();
    }
}

public sealed class CustomerMapper
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMerger<LegacyCustomer, Customer>
{
    public Customer Map(LegacyCustomer entity)
    {
        int space = entity.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new Customer(entity.FullName[..space], entity.FullName[(space + 1)..], entity.Phone ?? "");
    }

    public LegacyCustomer MergeBack(Customer entity, LegacyCustomer? current)
    {
        LegacyCustomer row = current ?? new LegacyCustomer();
        row.FullName = $"{entity.FirstName} {entity.LastName}";
        row.Phone = entity.Phone;
        return row; // UpdatedAt, and whatever else the new model does not know, stay as they are
    }
}

/// <summary>
/// The examples of "An existing legacy table" in docs/entity-framework-core.md, verbatim (DocumentationCoverageTests
/// checks that they stay so), on a legacy table the legacy application created: a serial key, a legacy-only
/// <c>updated_at</c> and an <c>audit</c> column no model maps.
/// </summary>
[Collection("postgres")]
public sealed class LegacyTableExamplesTests(PostgresServer server) : ContainerExample
{
    private static readonly DateTime UpdatedAt = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public async Task LegacyTable_MigratesToAnIdlessModel_WritesBackWhole_AndKeepsItsSequenceAhead()
    {
        string legacyConnectionString = await server.CreateDatabaseAsync();
        string customersConnectionString = await server.CreateDatabaseAsync();
        var mapper = new CustomerMapper();

        services.AddDbContextFactory<LegacyDb>(o => o.UseNpgsql(legacyConnectionString));
        services.AddDbContextFactory<CustomerDb>(o => o.UseNpgsql(customersConnectionString));

        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(mapper)
            .UseReverseMerger(mapper)
            .UseEntityFrameworkCoreOldStore((LegacyDb db) => db.Customers, customer => customer.Id)
            .UseEntityFrameworkCoreNewStore(
                (CustomerDb db) => db.Customers,
                customer => EF.Property<string>(customer, "Id")
            )
            .UseInMemoryLock();

        var legacyDb = provider.GetRequiredService<IDbContextFactory<LegacyDb>>();
        await using (LegacyDb legacy = await legacyDb.CreateDbContextAsync())
        {
            await legacy.Database.ExecuteSqlRawAsync(
                "CREATE TABLE legacy_customers (id serial PRIMARY KEY, full_name text NOT NULL, phone text, "
                    + "updated_at timestamptz DEFAULT now(), audit text DEFAULT 'legacy'); "
                    + "INSERT INTO legacy_customers (full_name, phone, updated_at, audit) "
                    + "VALUES ('Ada Lovelace', '555-0100', '2020-01-02 03:04:05+00', 'checked by billing')"
            );
        }

        await using (
            CustomerDb created = await provider
                .GetRequiredService<IDbContextFactory<CustomerDb>>()
                .CreateDbContextAsync()
        )
        {
            await created.Database.EnsureCreatedAsync();
        }

        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Equal(new Customer("Ada", "Lovelace", "555-0100"), await customers.GetAsync("1"));
        await customers.SaveAsync("1", new Customer("Ada", "King", "555-0199"));
        await customers.SaveAsync("2", new Customer("Grace", "Hopper", "555-0200")); // created through the new API

        await using LegacyDb after = await legacyDb.CreateDbContextAsync();
        LegacyCustomer ada = await after.Customers.SingleAsync(c => c.Id == 1);
        Assert.Equal(("Ada King", UpdatedAt), (ada.FullName, ada.UpdatedAt)); // the legacy-only value survived
        List<string> audits = await after
            .Database.SqlQueryRaw<string>("SELECT audit AS \"Value\" FROM legacy_customers ORDER BY id")
            .ToListAsync();
        Assert.Equal(["checked by billing", "legacy"], audits); // never touched; the database's default when created
        List<int> next = await after
            .Database.SqlQueryRaw<int>(
                "INSERT INTO legacy_customers (full_name) VALUES ('Legacy App') RETURNING id AS \"Value\""
            )
            .ToListAsync();
        Assert.Equal([3], next); // the legacy application's own insert: past the key written back
    }
}
