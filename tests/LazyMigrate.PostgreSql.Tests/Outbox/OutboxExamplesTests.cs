using LazyMigrate.Outbox;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// The example of docs/postgresql.md's section on the outbox, verbatim; DocumentationCoverageTests checks that it stays
/// so. It runs in a database of its own.
/// </summary>
[Collection("postgres")]
public sealed class OutboxExamplesTests(PostgresServer server) : ContainerExample
{
    private const string Migration = "LegacyCustomer->Customer";

    [Fact]
    public async Task Usage_TheNewStoreWritesEachChangeAndItsIntentInOneStatement()
    {
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        services.AddSingleton(dataSource); // disposed with the container

        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.CreateSchema = true)
            .UsePostgreSqlNewStore(o => o.CreateSchema = true)
            .UsePostgreSqlOutbox(o => o.CreateSchema = true); // "public"."lazymigrate_outbox", the new store's database

        var store = (IOutboxNewStore<Customer>)provider.GetRequiredKeyedService<INewStore<Customer>>(Migration);
        Assert.Same(provider.GetRequiredKeyedService<IMigrationOutbox>(Migration), store.Outbox);
        long version = await store.UpsertAndRecordAsync(
            "1",
            new Customer("Ada", "King", "(555) 010-0001"),
            new OutboxIntent(Migration, OutboxItemKind.WriteBack, "1", null, DateTimeOffset.UnixEpoch)
        );
        Assert.Equal(1L, version);
        Assert.Equal(1L, await dataSource.ScalarAsync<long>("SELECT count(*) FROM lazymigrate_outbox"));
        Assert.Equal(1L, await dataSource.ScalarAsync<long>("SELECT count(*) FROM customer WHERE id = '1'"));
    }
}
