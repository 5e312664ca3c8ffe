using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// A payload that does not deserialize fails loudly, naming the entity and the table, and nothing is written.
/// </summary>
[Collection("postgres")]
public sealed class CorruptPayloadTests(PostgresServer server)
{
    /// <summary>A payload of the right shape whose version is not a number: it does not deserialize.</summary>
    internal const string CorruptJson =
        "{\"id\": \"bad\", \"fullName\": \"First Last\", \"version\": \"not a number\"}";

    [Fact]
    public async Task OldStore_EveryRead_NamesTheCorruptEntity()
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, options);
        await store.UpsertAsync("good", LegacyCustomer.Create("good", 1));
        await InsertRawAsync(options.TableName!, "bad", CorruptJson);

        var find = await Assert.ThrowsAsync<CorruptPayloadException>(async () => await store.FindAsync("bad"));
        var findMany = await Assert.ThrowsAsync<CorruptPayloadException>(async () =>
            await store.FindManyAsync(["good", "bad"])
        );
        var scan = await Assert.ThrowsAsync<CorruptPayloadException>(async () =>
            await store.ScanAsync(null).ToListAsync()
        );

        Assert.All(
            [find, findMany, scan],
            e =>
            {
                Assert.Equal("bad", e.EntityId);
                Assert.Equal(store.TableName, e.TableName);
                Assert.Contains("'bad'", e.Message, StringComparison.Ordinal);
                Assert.Contains(store.TableName, e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain("not a number", e.Message, StringComparison.Ordinal);
            }
        );
        Assert.Equal(1, (await store.FindAsync("good"))!.Version);
    }

    [Fact]
    public async Task NewStore_JsonNullOrMalformed_NamesTheEntity()
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);
        await InsertRawAsync(options.TableName!, "null", "null");
        await InsertRawAsync(options.TableName!, "array", "[1, 2]");

        var jsonNull = await Assert.ThrowsAsync<CorruptPayloadException>(async () => await store.FindAsync("null"));
        var array = await Assert.ThrowsAsync<CorruptPayloadException>(async () => await store.FindManyAsync(["array"]));

        Assert.Equal("null", jsonNull.EntityId);
        Assert.Contains("JSON null", jsonNull.Message, StringComparison.Ordinal);
        Assert.Equal("array", array.EntityId);
        Assert.IsType<System.Text.Json.JsonException>(array.InnerException);
    }

    [Fact]
    public async Task Repository_CorruptOldRecord_FailsNamingIt_AndWritesNothing()
    {
        var oldOptions = TestDatabase.Options();
        var oldStore = new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, oldOptions);
        var newStore = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        await InsertRawAsync(oldOptions.TableName!, "bad", CorruptJson);
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.RetryDelay = TimeSpan.FromMilliseconds(1))
            .UseMapper(new CustomerMapper())
            .UseOldStore(oldStore)
            .UseNewStore(newStore)
            .UsePostgreSqlAdvisoryLock(dataSource: server.DataSource);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

        var failure = await Assert.ThrowsAsync<CorruptPayloadException>(async () => await repository.GetAsync("bad"));

        Assert.Equal("bad", failure.EntityId);
        Assert.Equal(NewStoreState.Missing, (await newStore.FindAsync("bad")).State);
    }

    /// <summary>Writes a row behind the store's back (creating the table first if the store has not yet).</summary>
    private async Task InsertRawAsync(string table, string id, string json)
    {
        await PostgreSqlDocumentStoreSchema.CreateAsync<LegacyCustomer>(
            server.DataSource,
            new PostgreSqlDocumentStoreOptions { TableName = table }
        );
        await server.DataSource.ExecuteAsync($"INSERT INTO \"{table}\" (id, payload) VALUES ($1, $2::jsonb)", id, json);
    }
}
