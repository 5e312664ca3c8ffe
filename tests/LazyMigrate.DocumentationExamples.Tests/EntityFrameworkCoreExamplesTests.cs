using LazyMigrate.EntityFrameworkCore;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Documentation;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.DocumentationExamples.Tests.EntityFrameworkCore;

// The types of docs/entity-framework-core.md: a legacy customer numbered by an int, a new one keyed by a string id.

public sealed class LegacyCustomer
{
    public int Number { get; set; }

    public string FullName { get; set; } = "";
}

public sealed class Customer
{
    public string Id { get; set; } = "";

    public string FirstName { get; set; } = "";

    public string LastName { get; set; } = "";
}

public sealed class CustomerMapper
    : IMigrationMapper<LegacyCustomer, Customer>,
        IReverseMigrationMapper<LegacyCustomer, Customer>
{
    public Customer Map(LegacyCustomer entity)
    {
        int space = entity.FullName.IndexOf(' ', StringComparison.Ordinal);
        return new Customer { FirstName = entity.FullName[..space], LastName = entity.FullName[(space + 1)..] };
    }

    public LegacyCustomer MapBack(Customer entity) => new() { FullName = $"{entity.FirstName} {entity.LastName}" };
}

public sealed class LegacyDb(DbContextOptions<LegacyDb> options) : DbContext(options)
{
    public DbSet<LegacyCustomer> Customers => Set<LegacyCustomer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<LegacyCustomer>(e =>
        {
            e.HasKey(c => c.Number);
            e.Property(c => c.Number).ValueGeneratedNever();
        });
}

public sealed class CustomerDb(DbContextOptions<CustomerDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Customer>(e =>
        {
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever(); // on PostgreSQL add .UseCollation("C"): ordinal order (below)
        });
        modelBuilder.AddLazyMigrateEntries(); // a new store's claims and tombstones
    }
}

public sealed class CustomerOutboxDb(DbContextOptions<CustomerOutboxDb> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Customer>(e =>
        {
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).ValueGeneratedNever();
        });
        modelBuilder.AddLazyMigrateEntries();
        modelBuilder.AddLazyMigrateOutbox(); // table LazyMigrateOutbox, beside the entities whose changes it records
    }
}

/// <summary>
/// The examples of docs/entity-framework-core.md, verbatim; DocumentationCoverageTests checks that they stay so. They
/// use the two SQLite files the page names, in the test's working folder, deleted before and after.
/// </summary>
public sealed class EntityFrameworkCoreExamplesTests : ContainerExample, IAsyncLifetime
{
    private static readonly string[] Files = ["legacy.db", "customers.db"];

    public Task InitializeAsync()
    {
        DeleteFiles();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await provider.DisposeAsync(); // a dispatcher is only disposed asynchronously
        SqliteConnection.ClearAllPools();
        DeleteFiles();
    }

    [Fact]
    public async Task TwoSqliteFiles_MigrateOnRead_AndWriteBack()
    {
        services.AddDbContextFactory<LegacyDb>(o => o.UseSqlite("Data Source=legacy.db"));
        services.AddDbContextFactory<CustomerDb>(o => o.UseSqlite("Data Source=customers.db"));

        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore((LegacyDb db) => db.Customers, customer => customer.Number)
            .UseEntityFrameworkCoreNewStore((CustomerDb db) => db.Customers, customer => customer.Id)
            .UseInMemoryLock(); // one process; several instances share a lock (UseDistributedLock, ...)

        await using (
            LegacyDb legacy = await provider.GetRequiredService<IDbContextFactory<LegacyDb>>().CreateDbContextAsync()
        )
        {
            await legacy.Database.EnsureCreatedAsync();
            legacy.Customers.Add(new LegacyCustomer { Number = 42, FullName = "Ada Lovelace" });
            await legacy.SaveChangesAsync();
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
        Customer? customer = await customers.GetAsync("42");
        Assert.Equal(("42", "Lovelace"), (customer?.Id, customer?.LastName)); // the store set the key from the id
        await customers.SaveAsync("42", new Customer { FirstName = "Ada", LastName = "King" });

        await using LegacyDb after = await provider
            .GetRequiredService<IDbContextFactory<LegacyDb>>()
            .CreateDbContextAsync();
        Assert.Equal("Ada King", (await after.Customers.SingleAsync(c => c.Number == 42)).FullName); // written back
    }

    [Fact]
    public async Task Outbox_AsyncWriteBack_TheSaveAndItsIntentCommitTogether_TheDispatcherAppliesIt()
    {
        services.AddDbContextFactory<LegacyDb>(o => o.UseSqlite("Data Source=legacy.db"));
        services.AddDbContextFactory<CustomerOutboxDb>(o => o.UseSqlite("Data Source=customers.db"));

        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore((LegacyDb db) => db.Customers, customer => customer.Number)
            .UseEntityFrameworkCoreNewStore((CustomerOutboxDb db) => db.Customers, customer => customer.Id)
            .UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, CustomerOutboxDb>() // the new store's context
            .UseInMemoryLock();
        services.AddLazyMigrationDispatcher(); // a hosted service: applies the outbox in the background, every instance

        await using (
            LegacyDb legacy = await provider.GetRequiredService<IDbContextFactory<LegacyDb>>().CreateDbContextAsync()
        )
        {
            await legacy.Database.EnsureCreatedAsync();
            legacy.Customers.Add(new LegacyCustomer { Number = 42, FullName = "Ada Lovelace" });
            await legacy.SaveChangesAsync();
        }

        await using (
            CustomerOutboxDb created = await provider
                .GetRequiredService<IDbContextFactory<CustomerOutboxDb>>()
                .CreateDbContextAsync()
        )
        {
            await created.Database.EnsureCreatedAsync(); // the entities, the entries and the outbox
        }

        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        await customers.SaveAsync("42", new Customer { FirstName = "Ada", LastName = "King" });

        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        await dispatcher.DrainAsync(); // without a host, or in a test: every write-back due now is applied
        OutboxStatistics outbox = await dispatcher.GetStatisticsAsync(); // pending and dead letters, by kind

        await using LegacyDb after = await provider
            .GetRequiredService<IDbContextFactory<LegacyDb>>()
            .CreateDbContextAsync();
        Assert.Equal("Ada King", (await after.Customers.SingleAsync(c => c.Number == 42)).FullName); // written back
        Assert.Empty(outbox.Pending);
        Assert.Empty(outbox.DeadLettered);
    }

    private static void DeleteFiles()
    {
        foreach (string file in Files)
        {
            File.Delete(file);
        }
    }
}
