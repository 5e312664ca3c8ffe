using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// A broken connection surfaces as a transient Npgsql error, which the core's default pipelines retry.
/// </summary>
[Collection("postgres")]
public sealed class TransientFailureTests(PostgresServer server) : IAsyncLifetime
{
    private readonly string _applicationName = $"lazymigrate-transient-{Guid.NewGuid():N}";
    private NpgsqlDataSource _dataSource = null!;

    public Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString)
            {
                ApplicationName = _applicationName,
            }.ConnectionString
        );
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task StoreCall_OnAKilledPooledConnection_FailsTransiently()
    {
        var store = new PostgreSqlNewStore<Customer>(_dataSource, TestDatabase.Options());
        await store.UpsertAsync("a", Customer.Create("a", 1));

        Assert.Equal(1, await KillPooledConnectionsAsync());
        var failure = await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await store.FindAsync("a"));

        Assert.True(failure.IsTransient);
        Assert.Equal(1, (await store.FindAsync("a")).Value!.Version);
    }

    [Fact]
    public async Task Repository_OnKilledPooledConnections_RetriesAndMigrates()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_dataSource);
        string oldTable = TestDatabase.UniqueTable();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.RetryDelay = TimeSpan.FromMilliseconds(1))
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (oldTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable(), true))
            .UsePostgreSqlAdvisoryLock();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Null(await repository.GetAsync("warm-up"));
        await new PostgreSqlOldStore<LegacyCustomer>(
            _dataSource,
            new PostgreSqlDocumentStoreOptions { TableName = oldTable }
        ).UpsertAsync("a", LegacyCustomer.Create("a", 4));

        Assert.True(await KillPooledConnectionsAsync() >= 1);
        Customer? migrated = await repository.GetAsync("a");

        Assert.Equal(4, migrated!.Version);
    }

    private async Task<long> KillPooledConnectionsAsync() =>
        await server.DataSource.ScalarAsync<long>(
            "SELECT count(pg_terminate_backend(pid, 30000)) FROM pg_stat_activity WHERE application_name = $1",
            _applicationName
        );
}
