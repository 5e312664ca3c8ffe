using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// The new store's <c>stale</c> column, which the capture trigger sets: every read that returns a
/// <see cref="NewStoreRead{TNew}"/> (the hot read, the batch read, the lock's re-read) reports it, for values and
/// tombstones alike; every write clears it; a table an earlier version created gets it from the schema script, and
/// without it the new store's start-up check says how to add it, while an old store does not need it.
/// </summary>
[Collection("postgres")]
public sealed class StaleColumnTests(PostgresServer server)
{
    private NpgsqlDataSource DataSource => server.DataSource;

    /// <summary>The DDL of a document table as versions before the <c>stale</c> column created it.</summary>
    internal static string FirstLayout(string table) =>
        $"CREATE TABLE \"{table}\" (id text COLLATE \"C\" NOT NULL PRIMARY KEY, payload jsonb, "
        + "deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now(), "
        + "CHECK (deleted OR payload IS NOT NULL))";

    [Fact]
    public async Task EveryRead_ReportsAStaleRow_ValueOrTombstone_AndAFreshOneAsFresh()
    {
        var (store, table) = await StoreAsync();
        await store.UpsertAsync("value", Customer.Create("value", 1));
        await store.DeleteAsync("tombstone");
        await store.UpsertAsync("fresh", Customer.Create("fresh", 1));
        await DataSource.ExecuteAsync($"UPDATE \"{table}\" SET stale = true WHERE id IN ('value', 'tombstone')");
        string[] ids = ["value", "tombstone", "fresh", "missing"];

        NewStoreRead<Customer>[] one = [.. await Task.WhenAll(ids.Select(id => store.FindAsync(id).AsTask()))];
        IReadOnlyDictionary<string, NewStoreRead<Customer>> many = await store.FindManyAsync(ids);
        IReadOnlyDictionary<string, NewStoreRead<Customer>> locked;
        await using (INewStoreLock<Customer>? held = await store.TryLockAsync(ids, TimeSpan.Zero))
        {
            locked = held!.Current;
        }

        var expected = new[]
        {
            (NewStoreState.Found, true),
            (NewStoreState.Deleted, true),
            (NewStoreState.Found, false),
            (NewStoreState.Missing, false),
        };
        Assert.Equal(expected, one.Select(r => (r.State, r.IsStale)));
        Assert.Equal(expected, ids.Select(id => many.GetValueOrDefault(id)).Select(r => (r.State, r.IsStale)));
        Assert.Equal(expected, ids.Select(id => locked.GetValueOrDefault(id)).Select(r => (r.State, r.IsStale)));
        Assert.Equal(1, one[0].Value!.Version);
    }

    [Fact]
    public async Task EveryWrite_ClearsTheMark()
    {
        var (store, table) = await StoreAsync();
        PostgreSqlOutboxOptions outboxOptions = OutboxTables.Options();
        var outbox = new PostgreSqlOutbox(DataSource, outboxOptions);
        var outboxStore = new PostgreSqlOutboxNewStore<Customer>(
            DataSource,
            outbox,
            new PostgreSqlDocumentStoreOptions { TableName = table }
        );
        string[] ids = ["upsert", "delete", "upsert-record", "delete-record"];
        foreach (string id in ids)
        {
            await store.UpsertAsync(id, Customer.Create(id, 1));
        }

        await DataSource.ExecuteAsync($"UPDATE \"{table}\" SET stale = true");

        await store.UpsertAsync("upsert", Customer.Create("upsert", 2));
        await store.DeleteAsync("delete");
        OutboxIntent Intent(string id) => new("m", OutboxItemKind.WriteBack, id, null, DateTimeOffset.UnixEpoch);
        await outboxStore.UpsertAndRecordAsync(
            "upsert-record",
            Customer.Create("upsert-record", 2),
            Intent("upsert-record")
        );
        await outboxStore.DeleteAndRecordAsync("delete-record", Intent("delete-record"));

        IReadOnlyDictionary<string, NewStoreRead<Customer>> reads = await store.FindManyAsync(ids);
        Assert.All(ids, id => Assert.False(reads[id].IsStale, id));
        Assert.Equal(0L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE stale"));

        // An insert of an id held is no write: the mark stays, for the read to sync.
        await DataSource.ExecuteAsync($"UPDATE \"{table}\" SET stale = true WHERE id = 'upsert'");
        Assert.False(await store.InsertIfAbsentAsync("upsert", Customer.Create("upsert", 3)));
        Assert.True((await store.FindAsync("upsert")).IsStale);
        Assert.True(await store.InsertIfAbsentAsync("inserted", Customer.Create("inserted", 1)));
        Assert.False((await store.FindAsync("inserted")).IsStale);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpsertManyAsync_WritesOverAValueATombstoneAndNothing_InOneStatement_ClearingTheMark(
        bool throughTheOutboxStore
    )
    {
        var (store, table) = await StoreAsync();
        IBatchWritingNewStore<Customer> batch = throughTheOutboxStore
            ? new PostgreSqlOutboxNewStore<Customer>(
                DataSource,
                new PostgreSqlOutbox(DataSource, OutboxTables.Options()),
                new PostgreSqlDocumentStoreOptions { TableName = table }
            )
            : store;
        await store.UpsertAsync("value", Customer.Create("value", 1));
        await store.DeleteAsync("tombstone");
        await DataSource.ExecuteAsync($"UPDATE \"{table}\" SET stale = true");

        await batch.UpsertManyAsync([
            new("value", Customer.Create("value", 2)),
            new("tombstone", Customer.Create("tombstone", 2)),
            new("new", Customer.Create("new", 2)),
        ]);

        IReadOnlyDictionary<string, NewStoreRead<Customer>> reads = await store.FindManyAsync([
            "value",
            "tombstone",
            "new",
        ]);
        Assert.All(
            reads,
            read =>
            {
                Assert.Equal(NewStoreState.Found, read.Value.State);
                Assert.Equal((read.Key, 2), (read.Value.Value!.Id, read.Value.Value.Version));
                Assert.False(read.Value.IsStale, read.Key);
            }
        );
        await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await batch.UpsertManyAsync([
                new("fine", Customer.Create("fine", 1)),
                new("bad\0id", Customer.Create("x", 1)),
            ])
        );
        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("fine")).State);
    }

    [Fact]
    public async Task TheSchemaScript_AddsTheColumnToATableOfTheFirstLayout_KeepingItsRows()
    {
        string table = TestDatabase.UniqueTable("first");
        await DataSource.ExecuteAsync(FirstLayout(table));
        await DataSource.ExecuteAsync(
            $"INSERT INTO \"{table}\" (id, payload) VALUES ('a', '{{\"id\":\"a\",\"version\":1}}'::jsonb)"
        );
        var options = new PostgreSqlDocumentStoreOptions { TableName = table };

        Assert.True(await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, options));
        Assert.False(await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, options));

        Assert.False(await DataSource.ScalarAsync<bool>($"SELECT stale FROM \"{table}\" WHERE id = 'a'"));
        NewStoreRead<Customer> read = await new PostgreSqlNewStore<Customer>(DataSource, options).FindAsync("a");
        Assert.Equal((NewStoreState.Found, false, 1), (read.State, read.IsStale, read.Value!.Version));
    }

    [Fact]
    public async Task ANewStoreWithCreateSchema_AddsTheColumnBeforeItsFirstCommand()
    {
        string table = TestDatabase.UniqueTable("first");
        await DataSource.ExecuteAsync(FirstLayout(table));
        var store = new PostgreSqlNewStore<Customer>(DataSource, TestDatabase.Options(table));

        await store.UpsertAsync("a", Customer.Create("a", 1));

        Assert.False(await DataSource.ScalarAsync<bool>($"SELECT stale FROM \"{table}\" WHERE id = 'a'"));
    }

    [Fact]
    public async Task AnOldStore_OnATableOfTheFirstLayout_ReadsAndWritesIt_AndLeavesItAsItIs()
    {
        string table = TestDatabase.UniqueTable("first");
        await DataSource.ExecuteAsync(FirstLayout(table));
        var store = new PostgreSqlOldStore<LegacyCustomer>(DataSource, TestDatabase.Options(table));

        await store.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        await store.UpsertManyAsync([new("b", LegacyCustomer.Create("b", 1))]);
        await store.DeleteAsync("b");

        Assert.Equal(1, (await store.FindAsync("a"))?.Version);
        Assert.Equal(["a"], (await store.FindManyAsync(["a", "b"])).Keys);
        Assert.Equal(0L, await StaleColumnsAsync(table));
    }

    [Fact]
    public async Task StartAsync_ANewStoreTableWithoutTheColumn_FailsSayingHowToAddIt()
    {
        string table = TestDatabase.UniqueTable("first");
        await DataSource.ExecuteAsync(FirstLayout(table));
        using IHost host = StartupCheckTests.Host(DataSource, o => o.TableName = table);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("NewStore", message, StringComparison.Ordinal);
        Assert.Contains("column \"stale\" does not exist", message, StringComparison.Ordinal);
        Assert.Contains(
            $"ALTER TABLE \"public\".\"{table}\" ADD COLUMN IF NOT EXISTS stale",
            message,
            StringComparison.Ordinal
        );
        Assert.Equal(0L, await StaleColumnsAsync(table));
    }

    [Fact]
    public async Task StartAsync_CreateSchema_AddsTheColumn_AndAnOldStoreTableOfTheFirstLayoutPasses()
    {
        string oldTable = TestDatabase.UniqueTable("first");
        string newTable = TestDatabase.UniqueTable("first");
        await DataSource.ExecuteAsync(FirstLayout(oldTable));
        await DataSource.ExecuteAsync(FirstLayout(newTable));
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = oldTable, DataSource)
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true), DataSource)
            .UseInMemoryLock();
        using IHost host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();

        Assert.Equal(1L, await StaleColumnsAsync(newTable));
        Assert.Equal(0L, await StaleColumnsAsync(oldTable));
    }

    private Task<long> StaleColumnsAsync(string table) =>
        DataSource.ScalarAsync<long>(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = 'stale'",
            table
        );

    private async Task<(PostgreSqlNewStore<Customer> Store, string Table)> StoreAsync()
    {
        string table = TestDatabase.UniqueTable();
        var store = new PostgreSqlNewStore<Customer>(DataSource, TestDatabase.Options(table));
        await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, TestDatabase.Options(table));
        return (store, table);
    }
}
