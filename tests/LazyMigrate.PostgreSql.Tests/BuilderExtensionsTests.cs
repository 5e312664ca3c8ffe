using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// UsePostgreSqlOldStore, UsePostgreSqlNewStore and UsePostgreSqlAdvisoryLock: the data source from the container or
/// given, options validated at start-up.
/// </summary>
[Collection("postgres")]
public sealed class BuilderExtensionsTests(PostgresServer server)
{
    private const string Migration = "LegacyCustomer->Customer";

    [Fact]
    public async Task AllThree_WithTheContainersDataSource_MigrateOnDemand()
    {
        string oldTable = TestDatabase.UniqueTable();
        string newTable = TestDatabase.UniqueTable();
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true))
            .UsePostgreSqlAdvisoryLock(o => o.KeepAliveInterval = TimeSpan.FromSeconds(1));
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<PostgreSqlOldStore<LegacyCustomer>>(
            provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration)
        );
        Assert.IsType<PostgreSqlNewStore<Customer>>(provider.GetRequiredKeyedService<INewStore<Customer>>(Migration));
        await provider
            .GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration)
            .UpsertAsync("a", LegacyCustomer.Create("a", 5));

        Customer? migrated = await provider
            .GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>()
            .GetAsync("a");

        Assert.Equal(5, migrated!.Version);
        Assert.Equal(
            5,
            await server.DataSource.ScalarAsync<int>(
                $"SELECT (payload->>'version')::int FROM \"{newTable}\" WHERE id = 'a' AND NOT deleted"
            )
        );
    }

    [Fact]
    public async Task AGivenDataSource_NeedsNoneInTheContainer()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.CreateSchema = true, server.DataSource)
            .UsePostgreSqlNewStore(
                o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true),
                server.DataSource
            )
            .UsePostgreSqlAdvisoryLock(dataSource: server.DataSource);
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(
            "\"public\".\"legacy_customer\"",
            (
                (PostgreSqlOldStore<LegacyCustomer>)
                    provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration)
            ).TableName
        );
        Assert.Equal(
            MigrationOutcome.Absent,
            await provider
                .GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>()
                .MigrateAsync($"absent-{Guid.NewGuid():N}")
        );
    }

    [Fact]
    public async Task NoDataSourceInTheContainer_FailsAtStartUp_SayingWhatToRegister()
    {
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore()
            .UsePostgreSqlNewStore()
            .UsePostgreSqlAdvisoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();

        var failure = Assert.Throws<AggregateException>(() =>
            provider.GetRequiredService<IStartupValidator>().Validate()
        );

        string messages = string.Join("\n", failure.InnerExceptions.Select(e => e.Message));
        Assert.Contains(
            "PostgreSQL store 'LegacyCustomer->Customer:OldStore': needs an NpgsqlDataSource in the container",
            messages,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "PostgreSQL store 'LegacyCustomer->Customer:NewStore': needs an NpgsqlDataSource",
            messages,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "PostgreSQL advisory lock 'LegacyCustomer->Customer:Lock': needs an NpgsqlDataSource",
            messages,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartUp_NamingEachProblem()
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.ScanPageSize = 0)
            .UsePostgreSqlNewStore(o => (o.Schema, o.TableName) = ("public", "customer\"; DROP TABLE x; --"))
            .UsePostgreSqlAdvisoryLock(o => o.MaxPollInterval = TimeSpan.FromMilliseconds(1));
        await using ServiceProvider provider = services.BuildServiceProvider();

        var failure = Assert.Throws<AggregateException>(() =>
            provider.GetRequiredService<IStartupValidator>().Validate()
        );

        string messages = string.Join("\n", failure.InnerExceptions.Select(e => e.Message));
        Assert.Contains("ScanPageSize must be between 1 and 100000, not 0", messages, StringComparison.Ordinal);
        Assert.Contains("TableName 'customer\"; DROP TABLE x; --' is invalid", messages, StringComparison.Ordinal);
        Assert.Contains("MaxPollInterval must be at least PollInterval", messages, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() =>
            provider.GetRequiredKeyedService<INewStore<Customer>>(Migration)
        );
    }

    [Fact]
    public async Task TwoMigrations_InOneContainer_KeepTheirOwnOptions()
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = "first_old")
            .UsePostgreSqlNewStore(o => o.TableName = "first_new")
            .UsePostgreSqlAdvisoryLock();
        services
            .AddLazyMigration<Customer, LegacyCustomer>()
            .UseMapper(new CustomerMapper().MapBack)
            .UsePostgreSqlOldStore(o => o.TableName = "second_old")
            .UsePostgreSqlNewStore(o => o.TableName = "second_new")
            .UsePostgreSqlAdvisoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var firstOld =
            (PostgreSqlOldStore<LegacyCustomer>)provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration);
        var secondNew =
            (PostgreSqlNewStore<LegacyCustomer>)
                provider.GetRequiredKeyedService<INewStore<LegacyCustomer>>("Customer->LegacyCustomer");
        Assert.Equal("\"public\".\"first_old\"", firstOld.TableName);
        Assert.Equal("\"public\".\"second_new\"", secondNew.TableName);
    }

    [Fact]
    public async Task UsePostgreSqlNewStore_WithNoLockConfigured_StartsAndMigratesUnderTheStoresOwnLock()
    {
        string newTable = TestDatabase.UniqueTable();
        await using ServiceProvider provider = await StartedWithOneLegacyCustomerAsync(newTable);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        using var recorder = new StatementRecorder(table: newTable);

        using (recorder.Step("migrate"))
        {
            Assert.Equal(MigrationOutcome.Migrated, await repository.MigrateAsync("a"));
        }

        Assert.Equal(5, (await repository.GetAsync("a"))!.Version);
        Assert.Contains(recorder.Of("migrate"), statement => statement.Contains("advisory", StringComparison.Ordinal));
        Assert.Null(provider.GetKeyedService<IMigrationLockProvider>(Migration));
        Assert.Null(provider.GetService<IMigrationLockProvider>());
    }

    [Fact]
    public async Task AnExplicitLock_WinsOverThePostgreSqlNewStoresOwnLock()
    {
        string newTable = TestDatabase.UniqueTable();
        var locks = new InMemoryMigrationLockProvider();
        await using ServiceProvider provider = await StartedWithOneLegacyCustomerAsync(
            newTable,
            b => b.UseInMemoryLock(locks)
        );
        using var recorder = new StatementRecorder(table: newTable);

        using (recorder.Step("migrate"))
        {
            await provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().MigrateAsync("a");
        }

        Assert.Equal(1, locks.AcquireCount);
        Assert.DoesNotContain(
            recorder.Of("migrate"),
            statement => statement.Contains("advisory", StringComparison.Ordinal)
        );
    }

    /// <summary>
    /// Starts a container with the PostgreSQL stores and no lock unless configured, and one old entity, <c>a</c>.
    /// </summary>
    private async Task<ServiceProvider> StartedWithOneLegacyCustomerAsync(
        string newTable,
        Action<ILazyMigrationBuilder<LegacyCustomer, Customer>>? configure = null
    )
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        var migration = services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true));
        configure?.Invoke(migration);
        ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        await provider
            .GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration)
            .UpsertAsync("a", LegacyCustomer.Create("a", 5));
        return provider;
    }

    [Fact]
    public void AMultiplexingDataSource_IsRejectedForTheLock()
    {
        using NpgsqlDataSource multiplexing = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { Multiplexing = true }.ConnectionString
        );

        var failure = Assert.Throws<ArgumentException>(() => new PostgreSqlAdvisoryLockProvider(multiplexing));

        Assert.Contains("Multiplexing", failure.Message, StringComparison.Ordinal);
    }
}
