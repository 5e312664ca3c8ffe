using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>The batched insert-if-absent is one statement that reports exactly the ids it inserted.</summary>
[Collection("postgres")]
public sealed class BatchedInsertTests(PostgresServer server)
{
    [Fact]
    public async Task InsertMany_ReportsExactlyTheInsertedIds_AmongValuesTombstonesAndRepeats()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        await store.UpsertAsync("saved", Customer.Create("saved", 1));
        await store.DeleteAsync("deleted");

        IReadOnlyCollection<string> inserted = await store.InsertManyIfAbsentAsync([
            new("new-b", Customer.Create("new-b", 9)),
            new("saved", Customer.Create("saved", 9)),
            new("new-a", Customer.Create("new-a", 9)),
            new("deleted", Customer.Create("deleted", 9)),
            new("new-a", Customer.Create("new-a", 10)),
        ]);

        Assert.Equal(["new-a", "new-b"], inserted.Order(StringComparer.Ordinal));
        Assert.Equal(9, (await store.FindAsync("new-a")).Value!.Version);
        Assert.Equal(1, (await store.FindAsync("saved")).Value!.Version);
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("deleted")).State);
    }

    [Fact]
    public async Task InsertMany_OfThousands_InsertsAllInOneCall()
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);
        KeyValuePair<string, Customer>[] entities = Enumerable
            .Range(0, 5_000)
            .Select(i => new KeyValuePair<string, Customer>($"c-{i:D5}", Customer.Create($"c-{i:D5}", i)))
            .ToArray();

        IReadOnlyCollection<string> first = await store.InsertManyIfAbsentAsync(entities);
        IReadOnlyCollection<string> second = await store.InsertManyIfAbsentAsync(entities);

        Assert.Equal(entities.Select(e => e.Key), first.Order(StringComparer.Ordinal));
        Assert.Empty(second);
        Assert.Equal(
            5_000L,
            await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{options.TableName}\"")
        );
    }

    [Fact]
    public async Task InsertMany_Empty_InsertsNothing()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());

        Assert.Empty(await store.InsertManyIfAbsentAsync([]));
        Assert.Empty(await store.FindManyAsync([]));
    }
}
