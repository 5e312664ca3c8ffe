using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LazyMigrate.EntityFrameworkCore.Tests.Outbox;

/// <summary>
/// UseEntityFrameworkCoreOutbox: the migration's keyed outbox, which its EF Core new store over the same context
/// records into whichever call comes first, validated and checked when the host starts.
/// </summary>
public sealed class OutboxRegistrationTests : IAsyncLifetime
{
    private const string Migration = "LegacyCustomer->Customer";

    private readonly SqliteFiles _files = new(writeAheadLog: false);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _files.DisposeAsync().AsTask();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UseEntityFrameworkCoreOutbox_BeforeOrAfterTheNewStore_TheNewStoreRecordsIntoTheMigrationsOutbox(
        bool outboxFirst
    )
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        var services = new ServiceCollection();
        services.AddDbContextFactory<StoreDb>(o => o.UseSqlite(db.ConnectionString));
        var migration = services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryLock();
        if (outboxFirst)
        {
            migration.UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, StoreDb>();
        }

        migration.UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id);
        if (!outboxFirst)
        {
            migration.UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, StoreDb>();
        }

        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var store = Assert.IsType<EntityFrameworkCoreOutboxNewStore<StoreDb, Customer, string>>(
            provider.GetRequiredKeyedService<INewStore<Customer>>(Migration)
        );
        IMigrationOutbox outbox = provider.GetRequiredKeyedService<IMigrationOutbox>(Migration);

        Assert.Same(outbox, store.Outbox);
        Assert.Equal(
            1L,
            await store.UpsertAndRecordAsync(
                "a",
                Customer.Create("a", 1),
                new OutboxIntent(Migration, OutboxItemKind.WriteBack, "a", null, DateTimeOffset.UtcNow)
            )
        );
        Assert.Equal(1L, (await outbox.GetStatisticsAsync(Migration)).Pending[OutboxItemKind.WriteBack]);
    }

    [Fact]
    public async Task AsyncSave_RecordsItsWriteBackWithTheEntity_AndTheDispatcherAppliesIt()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        var services = new ServiceCollection();
        services.AddDbContextFactory<StoreDb>(o => o.UseSqlite(db.ConnectionString));
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore((StoreDb d) => d.LegacyCustomers, c => c.Id)
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
            .UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, StoreDb>()
            .UseInMemoryLock()
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var old = provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration);
        await old.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

        await repository.SaveAsync("a", Customer.Create("a", 2));

        Assert.Equal(1, (await old.FindAsync("a"))!.Version); // Async: not yet
        await using (StoreDb context = db.CreateDbContext())
        {
            LazyMigrateOutboxItem row = await context.Set<LazyMigrateOutboxItem>().SingleAsync();
            Assert.Equal((Migration, OutboxItemKind.WriteBack, "a"), (row.Migration, row.Kind, row.EntityId));
        }

        await dispatcher.DrainAsync();
        Assert.Equal(2, (await old.FindAsync("a"))!.Version);
        Assert.Empty((await dispatcher.GetStatisticsAsync()).Pending);
    }

    [Fact]
    public void Validation_AtStartUp_NamesTheMissingOutboxTableAndTheBadOption()
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<EntriesOnlyDb>(o => o.UseSqlite("Data Source=unused.db"));
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, EntriesOnlyDb>(o => o.MaxRecordAttempts = 0);
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() =>
            provider.GetRequiredService<IStartupValidator>().Validate()
        );

        Assert.Contains("EF Core outbox", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddLazyMigrateOutbox()", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRecordAttempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_OutboxTableMissing_FailsNamingTheMigrationTheOutboxAndTheCause()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        await using (StoreDb context = db.CreateDbContext())
        {
            await context.Database.ExecuteSqlRawAsync("DROP TABLE LazyMigrateOutbox");
        }

        using IHost host = Host(db.ConnectionString);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("'LegacyCustomer->Customer'", message, StringComparison.Ordinal);
        Assert.Contains("EF Core outbox (table LazyMigrateOutbox in StoreDb)", message, StringComparison.Ordinal);
        Assert.Contains("no such table", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_OutboxTableThere_Starts()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        using IHost host = Host(db.ConnectionString);

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_CheckOnStartOff_StartsWithTheOutboxTableMissing()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        await using (StoreDb context = db.CreateDbContext())
        {
            await context.Database.ExecuteSqlRawAsync("DROP TABLE LazyMigrateOutbox");
        }

        using IHost host = Host(db.ConnectionString, o => o.CheckOnStart = false);

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_OutboxReplacedAfterwards_DoesNotCheckTheTableTheMigrationNoLongerUses()
    {
        ContextFactory<StoreDb> db = await _files.CreateAsync();
        await using (StoreDb context = db.CreateDbContext())
        {
            await context.Database.ExecuteSqlRawAsync("DROP TABLE LazyMigrateOutbox");
        }

        using IHost host = Host(db.ConnectionString, then: m => m.UseOutbox(new InMemoryOutbox()));

        await host.StartAsync();

        await host.StopAsync();
    }

    private static IHost Host(
        string connectionString,
        Action<EntityFrameworkCoreOutboxOptions>? configure = null,
        Action<ILazyMigrationBuilder<LegacyCustomer, Customer>>? then = null
    )
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        builder.Services.AddDbContextFactory<StoreDb>(o => o.UseSqlite(connectionString));
        var migration = builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseEntityFrameworkCoreOldStore((StoreDb d) => d.LegacyCustomers, c => c.Id)
            .UseEntityFrameworkCoreNewStore((StoreDb d) => d.Customers, c => c.Id)
            .UseEntityFrameworkCoreOutbox<LegacyCustomer, Customer, StoreDb>(configure)
            .UseInMemoryLock();
        then?.Invoke(migration);
        return builder.Build();
    }
}
