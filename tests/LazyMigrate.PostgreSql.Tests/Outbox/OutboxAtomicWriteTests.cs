using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// The new store's writes and their outbox intents commit together or not at all, in one round trip: the upsert, the
/// tombstone, the batched insert (which records exactly the ids it inserted) and the lock's insert-record-release.
/// </summary>
[Collection("postgres")]
public sealed class OutboxAtomicWriteTests(PostgresServer server)
{
    private const string Migration = "LegacyCustomer->Customer";

    [Fact]
    public async Task UpsertAndRecord_IsOneRoundTrip_ThatWritesTheEntityAndCoalescesTheIntent()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        await store.UpsertAndRecordAsync(
            "warm-up",
            Customer.Create("warm-up", 0),
            OutboxTables.WriteBack(Migration, "warm-up")
        );

        using var recorder = new StatementRecorder();
        long first;
        using (recorder.Step("upsert"))
        {
            first = await store.UpsertAndRecordAsync(
                "a",
                Customer.Create("a", 1),
                OutboxTables.WriteBack(Migration, "a")
            );
        }

        long second = await store.UpsertAndRecordAsync(
            "a",
            Customer.Create("a", 2),
            OutboxTables.WriteBack(Migration, "a", seconds: 5)
        );

        string roundTrip = Assert.Single(recorder.Of("upsert"));
        Assert.Contains(store.TableName, roundTrip, StringComparison.Ordinal);
        Assert.Contains(outbox.TableName, roundTrip, StringComparison.Ordinal);
        Assert.Equal((1L, 2L), (first, second));
        Assert.Equal(2, (await store.FindAsync("a")).Value!.Version);
        Assert.Equal(["a:1:v2", "warm-up:1:v1"], await server.DataSource.HeldAsync(outbox));
    }

    [Fact]
    public async Task EveryWriteThatRecords_GivesItsItemAGreaterSequence_FromTheTablesSequence()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        var sequences = new List<long>();
        async Task ReadAsync(OutboxItemKind kind, string id) =>
            sequences.Add(Assert.Single(await outbox.FindAsync(Migration, [id]), i => i.Kind == kind).Sequence);

        await store.UpsertAndRecordAsync("a", Customer.Create("a", 1), OutboxTables.WriteBack(Migration, "a"));
        await ReadAsync(OutboxItemKind.WriteBack, "a");
        await outbox.RecordAsync(OutboxTables.WriteBack(Migration, "b"));
        await ReadAsync(OutboxItemKind.WriteBack, "b");
        await store.InsertManyIfAbsentAndRecordAsync(
            [new("c", Customer.Create("c", 1))],
            new Dictionary<string, OutboxIntent>
            {
                ["c"] = new(Migration, OutboxItemKind.EntityMigrated, "c", "{}", DateTimeOffset.UnixEpoch),
            }
        );
        await ReadAsync(OutboxItemKind.EntityMigrated, "c");
        await store.DeleteAndRecordAsync("a", OutboxTables.WriteBack(Migration, "a", seconds: 5));
        await ReadAsync(OutboxItemKind.WriteBack, "a");

        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
        Assert.Equal(
            sequences[^1],
            await server.DataSource.ScalarAsync<long>($"SELECT last_value FROM {outbox.Sql.SequenceName}")
        );
    }

    [Fact]
    public async Task UpsertAndRecord_WhenTheOutboxInsertFails_LeavesTheEntityAsItWas()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        await store.UpsertAsync("poison", Customer.Create("poison", 1));
        await outbox.RecordAsync(OutboxTables.WriteBack(Migration, "other"));
        await server.DataSource.RejectAsync(outbox, "poison");

        var failure = await Assert.ThrowsAsync<PostgresException>(async () =>
            await store.UpsertAndRecordAsync(
                "poison",
                Customer.Create("poison", 2),
                OutboxTables.WriteBack(Migration, "poison")
            )
        );

        Assert.Equal(PostgresErrorCodes.CheckViolation, failure.SqlState);
        Assert.Equal(1, (await store.FindAsync("poison")).Value!.Version);
        Assert.Equal(["other:1:v1"], await server.DataSource.HeldAsync(outbox));
    }

    [Fact]
    public async Task DeleteAndRecord_WhenTheOutboxInsertFails_WritesNoTombstone_AndOtherwiseBothAtOnce()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        await store.UpsertAsync("poison", Customer.Create("poison", 1));
        await store.UpsertAsync("b", Customer.Create("b", 1));
        await server.DataSource.RejectAsync(outbox, "poison");

        await Assert.ThrowsAsync<PostgresException>(async () =>
            await store.DeleteAndRecordAsync("poison", OutboxTables.WriteBack(Migration, "poison"))
        );
        long version = await store.DeleteAndRecordAsync("b", OutboxTables.WriteBack(Migration, "b"));

        Assert.Equal(NewStoreState.Found, (await store.FindAsync("poison")).State);
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("b")).State);
        Assert.Equal(1L, version);
        Assert.Equal(["b:1:v1"], await server.DataSource.HeldAsync(outbox));
    }

    [Fact]
    public async Task InsertManyIfAbsentAndRecord_RecordsExactlyTheIdsItInserted_InOneRoundTrip()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        await store.UpsertAsync("saved", Customer.Create("saved", 1));
        await store.DeleteAsync("deleted");
        string[] ids = ["new-b", "saved", "new-a", "deleted"];

        using var recorder = new StatementRecorder();
        IReadOnlyCollection<string> inserted;
        using (recorder.Step("insert"))
        {
            inserted = await store.InsertManyIfAbsentAndRecordAsync(
                [.. ids.Select(id => new KeyValuePair<string, Customer>(id, Customer.Create(id, 9)))],
                ids.ToDictionary(id => id, id => OutboxTables.Migrated(Migration, id))
            );
        }

        Assert.Equal(["new-a", "new-b"], inserted.Order(StringComparer.Ordinal));
        Assert.Single(recorder.Of("insert"));
        Assert.Equal(["new-a:2:v1", "new-b:2:v1"], await server.DataSource.HeldAsync(outbox));
        Assert.Equal(1, (await store.FindAsync("saved")).Value!.Version);
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("deleted")).State);
    }

    [Fact]
    public async Task StoreLock_InsertRecordAndRelease_OneRoundTrip_RecordsTheInsertedIds_AndReleasesTheLocks()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        await store.UpsertAsync("held", Customer.Create("held", 1));
        string[] ids = ["a", "b", "held"];
        await using INewStoreLock<Customer>? storeLock = await store.TryLockAsync(ids, TimeSpan.Zero);
        var recording = Assert.IsAssignableFrom<IOutboxNewStoreLock<Customer>>(storeLock);

        using var recorder = new StatementRecorder();
        IReadOnlyCollection<string> inserted;
        using (recorder.Step("insert"))
        {
            inserted = await recording.InsertManyIfAbsentRecordAndReleaseAsync(
                [.. ids.Select(id => new KeyValuePair<string, Customer>(id, Customer.Create(id, 9)))],
                ids.ToDictionary(id => id, id => OutboxTables.Migrated(Migration, id))
            );
        }

        Assert.Equal(["a", "b"], inserted.Order(StringComparer.Ordinal));
        string roundTrip = Assert.Single(recorder.Of("insert"));
        Assert.Contains(outbox.TableName, roundTrip, StringComparison.Ordinal);
        Assert.Contains("COMMIT", roundTrip, StringComparison.Ordinal);
        Assert.Equal(["a:2:v1", "b:2:v1"], await server.DataSource.HeldAsync(outbox));
        await using INewStoreLock<Customer>? again = await store.TryLockAsync(ids, TimeSpan.Zero);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task StoreLock_WhenTheOutboxInsertFails_InsertsNothing_AndReleasesTheLocks()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        var store = OutboxTables.Store(server.DataSource, outbox);
        await server.DataSource.RejectAsync(outbox, "poison");
        string[] ids = ["a", "poison"];
        await using INewStoreLock<Customer>? held = await store.TryLockAsync(ids, TimeSpan.Zero);
        var storeLock = Assert.IsAssignableFrom<IOutboxNewStoreLock<Customer>>(held);

        await Assert.ThrowsAsync<PostgresException>(async () =>
            await storeLock.InsertManyIfAbsentRecordAndReleaseAsync(
                [.. ids.Select(id => new KeyValuePair<string, Customer>(id, Customer.Create(id, 9)))],
                ids.ToDictionary(id => id, id => OutboxTables.Migrated(Migration, id))
            )
        );

        Assert.Empty(await store.FindManyAsync(ids));
        Assert.Empty(await server.DataSource.HeldAsync(outbox));
        await using INewStoreLock<Customer>? again = await store.TryLockAsync(ids, TimeSpan.Zero);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task TheLockOfAStoreWithoutAnOutbox_RefusesToRecord()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        await using INewStoreLock<Customer>? held = await store.TryLockAsync(["a"], TimeSpan.Zero);
        var storeLock = Assert.IsAssignableFrom<IOutboxNewStoreLock<Customer>>(held);

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await storeLock.InsertManyIfAbsentRecordAndReleaseAsync(
                [new("a", Customer.Create("a", 1))],
                new Dictionary<string, OutboxIntent> { ["a"] = OutboxTables.Migrated(Migration, "a") }
            )
        );
        Assert.Equal(NewStoreState.Missing, (await store.FindAsync("a")).State);
    }

    [Fact]
    public async Task AnOutboxOnAnotherDatabase_IsRefused()
    {
        await using NpgsqlDataSource other = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        PostgreSqlOutbox elsewhere = new(other, OutboxTables.Options());

        var refused = Assert.Throws<ArgumentException>(() =>
            new PostgreSqlOutboxNewStore<Customer>(server.DataSource, elsewhere)
        );

        Assert.Contains("another database", refused.Message, StringComparison.Ordinal);
    }
}
