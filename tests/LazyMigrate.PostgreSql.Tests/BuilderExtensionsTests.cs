using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>UsePostgreSqlOldStore, UsePostgreSqlNewStore and UsePostgreSqlAdvisoryLock: the data source from the container or given, options validated at start-up.</summary>
[Collection("postgres")]
public sealed class BuilderExtensionsTests(PostgresServer server)
{
    [Fact]
    public async Task AllThree_WithTheContainersDataSource_MigrateOnDemand()
    {
        string oldTable = TestDatabase.UniqueTable();
        string newTable = TestDatabase.UniqueTable();
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true))
            .UsePostgreSqlAdvisoryLock(o => o.KeepAliveInterval = TimeSpan.FromSeconds(1));
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<PostgreSqlOldStore<LegacyCustomer>>(provider.GetRequiredService<IOldStore<LegacyCustomer>>());
        Assert.IsType<PostgreSqlNewStore<Customer>>(provider.GetRequiredService<INewStore<Customer>>());
        await provider.GetRequiredService<IOldStore<LegacyCustomer>>().UpsertAsync("a", LegacyCustomer.Create("a", 5));

        Customer? migrated = await provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().GetAsync("a");

        Assert.Equal(5, migrated!.Version);
        Assert.Equal(5, await server.DataSource.ScalarAsync<int>($"SELECT (payload->>'version')::int FROM \"{newTable}\" WHERE id = 'a' AND NOT deleted"));
    }

    [Fact]
    public async Task AGivenDataSource_NeedsNoneInTheContainer()
    {
        var services = new ServiceCollection();
        services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.CreateSchema = true, server.DataSource)
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true), server.DataSource)
            .UsePostgreSqlAdvisoryLock(dataSource: server.DataSource);
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal("\"public\".\"legacy_customer\"", ((PostgreSqlOldStore<LegacyCustomer>)provider.GetRequiredService<IOldStore<LegacyCustomer>>()).TableName);
        Assert.Equal(MigrationOutcome.Absent, await provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>().MigrateAsync($"absent-{Guid.NewGuid():N}"));
    }

    [Fact]
    public async Task NoDataSourceInTheContainer_FailsAtStartUp_SayingWhatToRegister()
    {
        var services = new ServiceCollection();
        services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore()
            .UsePostgreSqlNewStore()
            .UsePostgreSqlAdvisoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();

        var failure = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        string messages = string.Join("\n", failure.InnerExceptions.Select(e => e.Message));
        Assert.Contains("PostgreSQL store 'LegacyCustomer->Customer:OldStore': needs an NpgsqlDataSource in the container", messages, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL store 'LegacyCustomer->Customer:NewStore': needs an NpgsqlDataSource", messages, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL advisory lock 'LegacyCustomer->Customer:Lock': needs an NpgsqlDataSource", messages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartUp_NamingEachProblem()
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.ScanPageSize = 0)
            .UsePostgreSqlNewStore(o => (o.Schema, o.TableName) = ("public", "customer\"; DROP TABLE x; --"))
            .UsePostgreSqlAdvisoryLock(o => o.MaxPollInterval = TimeSpan.FromMilliseconds(1));
        await using ServiceProvider provider = services.BuildServiceProvider();

        var failure = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        string messages = string.Join("\n", failure.InnerExceptions.Select(e => e.Message));
        Assert.Contains("ScanPageSize must be between 1 and 100000, not 0", messages, StringComparison.Ordinal);
        Assert.Contains("TableName 'customer\"; DROP TABLE x; --' is invalid", messages, StringComparison.Ordinal);
        Assert.Contains("MaxPollInterval must be at least PollInterval", messages, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<INewStore<Customer>>());
    }

    [Fact]
    public async Task TwoMigrations_InOneContainer_KeepTheirOwnOptions()
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = "first_old")
            .UsePostgreSqlNewStore(o => o.TableName = "first_new")
            .UsePostgreSqlAdvisoryLock();
        services.AddLazyMigration<Customer, LegacyCustomer>()
            .UseMapper(new CustomerMapper().MapBack)
            .UsePostgreSqlOldStore(o => o.TableName = "second_old")
            .UsePostgreSqlNewStore(o => o.TableName = "second_new")
            .UsePostgreSqlAdvisoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal("\"public\".\"first_old\"", ((PostgreSqlOldStore<LegacyCustomer>)provider.GetRequiredService<IOldStore<LegacyCustomer>>()).TableName);
        Assert.Equal("\"public\".\"second_new\"", ((PostgreSqlNewStore<LegacyCustomer>)provider.GetRequiredService<INewStore<LegacyCustomer>>()).TableName);
    }

    [Fact]
    public void AMultiplexingDataSource_IsRejectedForTheLock()
    {
        using NpgsqlDataSource multiplexing = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Multiplexing = true }.ConnectionString);

        var failure = Assert.Throws<ArgumentException>(() => new PostgreSqlAdvisoryLockProvider(multiplexing));

        Assert.Contains("Multiplexing", failure.Message, StringComparison.Ordinal);
    }
}
