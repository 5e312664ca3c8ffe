using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// UsePostgreSqlOutbox: the migration's keyed outbox, which its PostgreSQL new store writes through whichever call
/// comes first, over the new store's data source by default, checked when the host starts.
/// </summary>
[Collection("postgres")]
public sealed class OutboxRegistrationTests(PostgresServer server)
{
    private const string Migration = "LegacyCustomer->Customer";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UsePostgreSqlOutbox_BeforeOrAfterTheNewStore_TheNewStoreWritesThroughTheMigrationsOutbox(
        bool outboxFirst
    )
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        var migration = services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore();
        string outboxTable = TestDatabase.UniqueTable("outbox");
        void Outbox() => migration.UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (outboxTable, true));
        if (outboxFirst)
        {
            Outbox();
        }

        migration.UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true));
        if (!outboxFirst)
        {
            Outbox();
        }

        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var store = Assert.IsType<PostgreSqlOutboxNewStore<Customer>>(
            provider.GetRequiredKeyedService<INewStore<Customer>>(Migration)
        );
        IMigrationOutbox outbox = provider.GetRequiredKeyedService<IMigrationOutbox>(Migration);

        Assert.Same(outbox, store.Outbox);
        Assert.Equal(
            1L,
            await store.UpsertAndRecordAsync("a", Customer.Create("a", 1), OutboxTables.WriteBack(Migration, "a"))
        );
        Assert.Equal(1L, (await outbox.GetStatisticsAsync(Migration)).Pending[OutboxItemKind.WriteBack]);
    }

    [Fact]
    public async Task UsePostgreSqlOutbox_WithoutADataSource_TakesTheNewStoresOne_AndNeedsNoneInTheContainer()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UsePostgreSqlOutbox(o => o.CreateSchema = true)
            .UsePostgreSqlNewStore(o => o.TableName = TestDatabase.UniqueTable(), server.DataSource);
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();

        var outbox = Assert.IsType<PostgreSqlOutbox>(provider.GetRequiredKeyedService<IMigrationOutbox>(Migration));
        Assert.Same(server.DataSource, outbox.DataSource);
        Assert.IsType<PostgreSqlOutboxNewStore<Customer>>(
            provider.GetRequiredKeyedService<INewStore<Customer>>(Migration)
        );
    }

    [Fact]
    public async Task UsePostgreSqlOutbox_OnAnotherDatabase_LeavesTheNewStorePlain()
    {
        await using NpgsqlDataSource other = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseInMemoryOldStore()
            .UsePostgreSqlNewStore(o => o.TableName = TestDatabase.UniqueTable(), server.DataSource)
            .UsePostgreSqlOutbox(dataSource: other);
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.IsType<PostgreSqlNewStore<Customer>>(provider.GetRequiredKeyedService<INewStore<Customer>>(Migration));
    }

    [Fact]
    public async Task StartAsync_OutboxTableMissing_FailsNamingTheMigrationTheOutboxAndTheCause()
    {
        string missing = TestDatabase.UniqueTable("missing");
        using IHost host = Host(o => o.TableName = missing);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("'LegacyCustomer->Customer'", message, StringComparison.Ordinal);
        Assert.Contains("outbox", message, StringComparison.Ordinal);
        Assert.Contains($"\"public\".\"{missing}\"", message, StringComparison.Ordinal);
        Assert.Contains("42P01", message, StringComparison.Ordinal); // undefined_table
    }

    [Fact]
    public async Task StartAsync_AnOutboxWithoutItsCapturesTable_FailsNamingTheOutboxAndTheCause()
    {
        string table = TestDatabase.UniqueTable("outbox");
        await server.DataSource.ExecuteAsync(PostgreSqlOutboxSchema.CreateScript("public", table));
        await server.DataSource.ExecuteAsync($"DROP TABLE \"{table}_captures\"");
        using IHost host = Host(o => o.TableName = table);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains($"\"public\".\"{table}\"", message, StringComparison.Ordinal);
        Assert.Contains($"{table}_captures", message, StringComparison.Ordinal);
        Assert.Contains("42P01", message, StringComparison.Ordinal); // undefined_table
    }

    [Fact]
    public async Task StartAsync_OutboxCreateSchema_CreatesTheTableAtStart()
    {
        string table = TestDatabase.UniqueTable("outbox");
        using IHost host = Host(o => (o.TableName, o.CreateSchema) = (table, true));

        await host.StartAsync();

        Assert.Equal(
            1L,
            await server.DataSource.ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = $1", table)
        );
        await host.StopAsync();
    }

    private IHost Host(Action<PostgreSqlOutboxOptions> outbox)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UsePostgreSqlNewStore(
                o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true),
                server.DataSource
            )
            .UsePostgreSqlOutbox(outbox)
            .UseInMemoryLock();
        return builder.Build();
    }
}
