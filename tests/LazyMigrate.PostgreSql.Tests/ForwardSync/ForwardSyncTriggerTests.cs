using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// The forward sync capture trigger on a legacy table with typed columns (invariant 9): every row the old API writes
/// is recorded in the outbox in the write's own transaction, coalesced per entity; LazyMigrate's own write-backs mark
/// their transaction and are not recorded; the DDL is idempotent and takes no name from input unchecked. Each test runs
/// with the PL/pgSQL capture functions and with the compiled capture (extensions/lazymigrate_capture), which must
/// capture alike.
/// </summary>
public abstract class ForwardSyncTriggerTests(PostgresServer server, bool compiled)
{
    /// <summary>The triggers' PL/pgSQL capture functions, the default.</summary>
    [Collection("postgres")]
    public sealed class PlPgSql(PostgresServer server) : ForwardSyncTriggerTests(server, compiled: false);

    /// <summary>The compiled capture (<see cref="PostgreSqlForwardSyncTriggerOptions.CompiledCapture"/>).</summary>
    [Collection("postgres")]
    public sealed class Compiled(PostgresServer server) : ForwardSyncTriggerTests(server, compiled: true);

    private const string Migration = CapturingLegacyTables.Migration;

    private NpgsqlDataSource DataSource => server.DataSource;

    [Fact]
    public async Task LegacyInsertsUpdatesAndDeletes_EachCaptureTheirIds_InTheWritesTransaction_InTheOrderTheyRan()
    {
        var (legacy, outbox) = await LegacyTableWithTriggerAsync();

        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        OutboxItem inserted = Assert.Single(await ItemsAsync(outbox, "1"));
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King' WHERE id = 1");
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 1");
        OutboxItem updated = Assert.Single(await ItemsAsync(outbox, "1"));

        // Captured, not yet an item (version 0): pending all the same, ordered by the latest write.
        Assert.Equal(
            (OutboxItemKind.ForwardSync, Migration, 0L),
            (inserted.Kind, inserted.Migration, inserted.Version)
        );
        Assert.True(updated.Sequence > inserted.Sequence, $"sequence {updated.Sequence} after {inserted.Sequence}");
        Assert.Equal(3L, await CapturedAsync(outbox, "1"));

        // A legacy write rolled back captures nothing; a key changed captures both ids.
        await using (NpgsqlConnection connection = await DataSource.OpenConnectionAsync())
        await using (NpgsqlTransaction transaction = await connection.BeginTransactionAsync())
        {
            await using var insert = new NpgsqlCommand(
                $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (2, 'Grace', 1)",
                connection,
                transaction
            );
            await insert.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        Assert.Empty(await ItemsAsync(outbox, "2"));
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET id = 5 WHERE id = 1");
        Assert.Equal(4L, await CapturedAsync(outbox, "1"));
        OutboxItem rekeyed = Assert.Single(await ItemsAsync(outbox, "5"));
        await DataSource.ExecuteAsync($"DELETE FROM \"{legacy}\" WHERE id = 5");
        Assert.True(Assert.Single(await ItemsAsync(outbox, "5")).Sequence > rekeyed.Sequence);
    }

    [Fact]
    public async Task AClaim_FoldsTheCapturesIntoOneItemAnEntity_WithTheLatestSequence_AndIntoAnItemThatExists()
    {
        var (legacy, outbox) = await LegacyTableWithTriggerAsync();
        await DataSource.ExecuteAsync(
            $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1), (2, 'Grace', 1)"
        );
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 1");
        long latest = Assert.Single(await ItemsAsync(outbox, "1")).Sequence;

        // The captures take the database's clock: a claim a minute ahead finds them due.
        DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);
        IReadOnlyList<OutboxItem> claimed = await outbox.ClaimAsync(new(Migration, "a", 10, now, now.AddMinutes(1)));

        Assert.Equal(["1", "2"], claimed.Select(i => i.EntityId).Order());
        Assert.All(claimed, i => Assert.Equal((OutboxItemKind.ForwardSync, 1L), (i.Kind, i.Version)));
        Assert.Equal(latest, claimed.Single(i => i.EntityId == "1").Sequence);
        Assert.Equal(0L, await CapturedAsync(outbox, "1", "2"));

        // A write while the item is leased is captured; the lookup orders the item by it, and the next claim folds it
        // into the item: a new version, which the lease holder's completion then leaves pending.
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 3 WHERE id = 1");
        OutboxItem pending = Assert.Single(await ItemsAsync(outbox, "1"));
        Assert.True(pending.Sequence > latest);
        Assert.Equal(1L, pending.Version);
        Assert.Empty(await outbox.ClaimAsync(new(Migration, "b", 10, now, now.AddMinutes(1))));
        Assert.Equal(0L, await CapturedAsync(outbox, "1"));
        Assert.Equal(1, await outbox.CompleteAsync([.. claimed.Where(i => i.EntityId == "2")]));
        Assert.Equal(0, await outbox.CompleteAsync([.. claimed.Where(i => i.EntityId == "1")]));
        OutboxItem folded = Assert.Single(await ItemsAsync(outbox, "1"));
        Assert.Equal((2L, pending.Sequence), (folded.Version, folded.Sequence));
    }

    [Fact]
    public async Task ALegacyWrite_ToADeadLetteredEntity_RevivesItsItem_WhenTheClaimFoldsIt()
    {
        var (legacy, outbox) = await LegacyTableWithTriggerAsync();
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);
        OutboxItem item = Assert.Single(await outbox.ClaimAsync(new(Migration, "a", 10, now, now.AddMinutes(1))));
        await outbox.DeadLetterAsync(item, "the merger failed");
        Assert.True(Assert.Single(await ItemsAsync(outbox, "1")).IsDeadLettered);

        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 1");
        Assert.False(Assert.Single(await ItemsAsync(outbox, "1")).IsDeadLettered);
        OutboxItem revived = Assert.Single(await outbox.ClaimAsync(new(Migration, "b", 10, now, now.AddMinutes(1))));

        Assert.Equal((0, 2L), (revived.Attempts, revived.Version));
        Assert.Empty(await outbox.ListDeadLettersAsync(Migration, 10));
    }

    [Fact]
    public async Task TheStatistics_CountEachCapturedEntityOnce_AsAPendingForwardSync_FromItsFirstCapture()
    {
        var (legacy, outbox) = await LegacyTableWithTriggerAsync();
        var before = new DateTimeOffset(await DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()"));
        await DataSource.ExecuteAsync(
            $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1), (2, 'Grace', 1)"
        );
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2");

        OutboxStatistics captured = await outbox.GetStatisticsAsync(Migration);
        DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);
        await outbox.ClaimAsync(new(Migration, "a", 10, now, now.AddMinutes(1)));
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 3 WHERE id = 1");
        OutboxStatistics folded = await outbox.GetStatisticsAsync(Migration);

        Assert.Equal(2, captured.Pending[OutboxItemKind.ForwardSync]);
        Assert.InRange(captured.OldestPendingRecordedAt[OutboxItemKind.ForwardSync], before, now);
        Assert.Equal(2, folded.Pending[OutboxItemKind.ForwardSync]);
    }

    [Fact]
    public async Task WritesThroughTheTableOldStore_AreWriteBacks_AndRecordNothing_ButTheConnectionsNextWriteIs()
    {
        // One pooled connection: the write-backs and the plain writes after them share its session.
        await using NpgsqlDataSource single = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { MaxPoolSize = 1 }.ConnectionString
        );
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(single, compiled);
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            single,
            LegacyTables.CustomerOptions(legacy, PostgreSqlKeyType.Integer)
        );
        int session = await single.ScalarAsync<int>("SELECT pg_backend_pid()");

        await store.UpsertAsync("7", LegacyCustomer.Create("7", 1));
        await store.UpsertManyAsync([new("8", LegacyCustomer.Create("8", 1)), new("9", LegacyCustomer.Create("9", 1))]);
        await store.DeleteAsync("8");
        await store.DeleteManyAsync(["9"]);
        Assert.Empty(await ItemsAsync(outbox, "7", "8", "9"));

        // The mark lasts for the write-back's transaction only: a plain write on the same session is recorded.
        await single.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 7");
        Assert.Single(await ItemsAsync(outbox, "7"));

        // So it does after a write-back the order check refused, which ended in an error.
        await outbox.RecordAsync(new OutboxIntent(Migration, OutboxItemKind.WriteBack, "7", null, OutboxTables.T0));
        await single.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 3 WHERE id = 7");
        await WriteBackOrderTests.RefusedAsync(() => store.UpsertAsync("7", LegacyCustomer.Create("7", 9)), "7");
        Assert.Equal(3, await single.ScalarAsync<int>($"SELECT version FROM \"{legacy}\" WHERE id = 7"));
        long captured = await CapturedAsync(outbox, "7");
        await single.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 4 WHERE id = 7");
        Assert.Equal(captured + 1, await CapturedAsync(outbox, "7"));
        Assert.Equal(session, await single.ScalarAsync<int>("SELECT pg_backend_pid()"));
    }

    [Fact]
    public async Task WritesThroughTheDocumentOldStore_AreWriteBacks_AndRecordNothing()
    {
        var oldOptions = TestDatabase.Options();
        var store = new PostgreSqlOldStore<LegacyCustomer>(DataSource, oldOptions);
        await store.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        var (_, outbox) = await TriggerAsync(oldOptions.TableName!, keyColumn: "id");

        await store.UpsertAsync("a", LegacyCustomer.Create("a", 2));
        await store.DeleteAsync("a");
        Assert.Empty(await ItemsAsync(outbox, "a"));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public async Task AWriteBack_OfAnEntityWrittenThroughTheOldApiAfterItsIntent_LeavesTheRowAsTheOldApiWroteIt(
        bool oldApiLast,
        bool folded
    )
    {
        var (legacy, outbox) = await LegacyTableWithTriggerAsync();
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            DataSource,
            LegacyTables.CustomerOptions(legacy, PostgreSqlKeyType.Integer)
        );
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        var writeBack = new OutboxIntent(Migration, OutboxItemKind.WriteBack, "1", null, OutboxTables.T0);
        if (oldApiLast)
        {
            await outbox.RecordAsync(writeBack);
            await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King' WHERE id = 1");
        }
        else
        {
            await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King' WHERE id = 1");
            await outbox.RecordAsync(writeBack);
        }

        // The legacy write's capture, still a capture or folded into its item by a claim: the order is the same.
        if (folded)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);
            Assert.Contains(
                await outbox.ClaimAsync(new(Migration, "a", 10, now, now.AddMinutes(1))),
                i => i.Kind == OutboxItemKind.ForwardSync
            );
            Assert.Equal(0L, await CapturedAsync(outbox, "1"));
        }

        if (oldApiLast)
        {
            await WriteBackOrderTests.RefusedAsync(
                () => store.UpsertAsync("1", WriteBackOrderTests.Customer("1")),
                "1"
            );
            await WriteBackOrderTests.RefusedAsync(() => store.DeleteAsync("1"), "1");
        }
        else
        {
            await store.UpsertAsync("1", WriteBackOrderTests.Customer("1"));
            await store.DeleteAsync("2");
        }

        string expected = oldApiLast ? "Ada King" : "Written Back";
        Assert.Equal(
            expected,
            await DataSource.ScalarAsync<string>($"SELECT full_name FROM \"{legacy}\" WHERE id = 1")
        );
    }

    [Fact]
    public async Task TheScript_RunsAnyNumberOfTimes_AndCreateAsyncCreatesOnce()
    {
        string legacy = await LegacyTables.CreateCustomersAsync(DataSource, PostgreSqlKeyType.Integer);
        PostgreSqlOutboxOptions outboxOptions = await OutboxAsync();
        PostgreSqlForwardSyncTriggerOptions options = TriggerOptions(legacy, outboxOptions.TableName);

        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        string script = PostgreSqlForwardSyncTrigger.CreateScript(options);
        await DataSource.ExecuteAsync(script);
        await DataSource.ExecuteAsync(script);

        // The capture triggers (an update's or a delete's old key, an insert's key, a re-keyed row's new key), whose
        // functions also order a write-back after a later old-API write.
        Assert.Equal(
            3L,
            await DataSource.ScalarAsync<long>(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal",
                $"\"{legacy}\""
            )
        );
    }

    [Theory]
    [InlineData("it's a \\ test; DROP TABLE x; --")]
    [InlineData("$lazymigrate$ E'\\''")]
    public async Task AMigrationNameWithQuotesAndBackslashes_IsRecordedAsItIs(string migration)
    {
        string legacy = await LegacyTables.CreateCustomersAsync(DataSource, PostgreSqlKeyType.Integer);
        PostgreSqlOutboxOptions outboxOptions = await OutboxAsync();
        PostgreSqlForwardSyncTriggerOptions options = TriggerOptions(legacy, outboxOptions.TableName);
        options.Migration = migration;
        await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options);

        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");

        var outbox = new PostgreSqlOutbox(DataSource, outboxOptions);
        Assert.Single(await outbox.FindAsync(migration, ["1"]));
    }

    [Theory]
    [InlineData("LegacyTable", "bad\"name")]
    [InlineData("KeyColumn", "id; DROP")]
    [InlineData("TriggerName", "")]
    [InlineData("OutboxTable", "1outbox")]
    [InlineData("Migration", "")]
    public void ABadNameOrAnEmptyMigration_IsRefusedBeforeAnyDdl(string option, string value)
    {
        var options = TriggerOptions("legacy", "outbox");
        typeof(PostgreSqlForwardSyncTriggerOptions).GetProperty(option)!.SetValue(options, value);

        Assert.Throws<ArgumentException>(() => PostgreSqlForwardSyncTrigger.CreateScript(options));
    }

    [Fact]
    public async Task EndToEnd_AnOldApiUpdateReachesTheNewApi_AndAnAsyncWriteBackNeverComesBack()
    {
        string legacy = await LegacyTables.CreateCustomersAsync(DataSource, PostgreSqlKeyType.Integer);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada L', 1)");
        string newTable = TestDatabase.UniqueTable("new");
        PostgreSqlOutboxOptions outboxOptions = await OutboxAsync();
        await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, TriggerOptions(legacy, outboxOptions.TableName));
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o =>
            {
                o.WriteBackMode = WriteBackMode.Async;
                o.ForwardSync = true;
            })
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o => (o.TableName, o.KeyType) = (legacy, PostgreSqlKeyType.Integer), DataSource)
            .UsePostgreSqlOutbox(o => o.TableName = outboxOptions.TableName)
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (newTable, true), DataSource)
            .UsePostgreSqlAdvisoryLock(dataSource: DataSource)
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        var outbox = new PostgreSqlOutbox(DataSource, outboxOptions);
        Assert.Equal("Ada", (await repository.GetAsync("1"))?.FirstName);
        await dispatcher.DrainAsync();

        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King', version = 2 WHERE id = 1");
        await dispatcher.DrainAsync();
        Assert.Equal(("Ada", "King", 2), Names(await repository.GetAsync("1")));

        await repository.SaveAsync("1", Customer.Create("1", 3));
        Assert.Equal(1, await dispatcher.RunOnceAsync());
        Assert.Empty(await outbox.FindAsync(Migration, ["1"]));
        Assert.Equal(
            "First3 Last3",
            await DataSource.ScalarAsync<string>($"SELECT full_name FROM \"{legacy}\" WHERE id = 1")
        );
    }

    private static (string?, string?, int?) Names(Customer? customer) =>
        (customer?.FirstName, customer?.LastName, customer?.Version);

    private Task<(string Legacy, PostgreSqlOutbox Outbox)> LegacyTableWithTriggerAsync() =>
        CapturingLegacyTables.CreateAsync(DataSource, compiled);

    private Task<(string Legacy, PostgreSqlOutbox Outbox)> TriggerAsync(string legacy, string keyColumn) =>
        CapturingLegacyTables.TriggerAsync(DataSource, legacy, keyColumn, compiled);

    private Task<PostgreSqlOutboxOptions> OutboxAsync() => CapturingLegacyTables.OutboxAsync(DataSource);

    private PostgreSqlForwardSyncTriggerOptions TriggerOptions(string legacy, string outboxTable) =>
        CapturingLegacyTables.TriggerOptions(legacy, outboxTable, compiled);

    private static Task<long> CapturedAsync(PostgreSqlOutbox outbox, params string[] ids) =>
        CapturingLegacyTables.CapturedAsync(outbox, ids);

    private static Task<IReadOnlyList<OutboxItem>> ItemsAsync(PostgreSqlOutbox outbox, params string[] ids) =>
        CapturingLegacyTables.ForwardSyncsAsync(outbox, ids);
}
