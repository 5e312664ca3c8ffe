using System.Diagnostics.Metrics;
using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// A write-back never overwrites an old-API write that came after its intent (invariant 9), with the forward sync
/// trigger's order check running once the write-back's rows are written: against a legacy write still in flight when
/// the write-back reached the row (which a check before the write would miss where the legacy write deleted the row,
/// and a snapshot of the batch's start would miss in a repeatable read database); the old store refuses it
/// (<see cref="WriteBackSupersededException"/>, a batch whole), and the dispatcher writes the rest of a batch alone and
/// completes the refused one as skipped (the transaction it runs in: <see cref="WriteBackTransactionTests"/>). The
/// legacy application's own writes meet no <c>BEFORE</c> row trigger, which would lock each row before every one of
/// its updates.
/// </summary>
public abstract class WriteBackOrderTests(PostgresServer server, bool compiled)
{
    /// <summary>The triggers' PL/pgSQL capture functions, the default.</summary>
    [Collection("postgres")]
    public sealed class PlPgSql(PostgresServer server) : WriteBackOrderTests(server, compiled: false);

    /// <summary>The compiled capture, which hands a write-back's rows to the PL/pgSQL functions.</summary>
    [Collection("postgres")]
    public sealed class Compiled(PostgresServer server) : WriteBackOrderTests(server, compiled: true);

    private const string Migration = CapturingLegacyTables.Migration;

    private NpgsqlDataSource DataSource => server.DataSource;

    [Theory]
    [InlineData("UPDATE {0} SET full_name = 'Ada King' WHERE id = 1", false, "Ada King")]
    [InlineData("UPDATE {0} SET full_name = 'Ada King' WHERE id = 1", true, "Ada King")]
    [InlineData("DELETE FROM {0} WHERE id = 1", false, null)]
    public async Task AWriteBack_ThatWaitsForALegacyWriteInFlight_LeavesTheRowAsTheLegacyWriteLeftIt(
        string legacyWrite,
        bool writeBackDeletes,
        string? expected
    ) => await WriteBackAfterALegacyWriteInFlightAsync(DataSource, legacyWrite, writeBackDeletes, expected);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InADatabaseWhoseTransactionsAreRepeatableRead_AWriteBack_StillSeesTheLegacyWriteItWaitedFor(
        bool multiplexing
    )
    {
        string connectionString = await server.CreateDatabaseAsync();
        await using (NpgsqlDataSource setup = NpgsqlDataSource.Create(connectionString))
        {
            await setup.ExecuteAsync(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = "
                    + "''repeatable read''', current_database()); END $$"
            );
        }

        // Sessions opened from now on, all of this pool's, begin their transactions at repeatable read.
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(
            connectionString + (multiplexing ? ";Multiplexing=true" : "")
        );
        Assert.Equal("repeatable read", await database.ScalarAsync<string>("SHOW default_transaction_isolation"));

        await WriteBackAfterALegacyWriteInFlightAsync(database, "DELETE FROM {0} WHERE id = 1", false, null);
    }

    [Fact]
    public async Task AWriteBackOfSeveralEntities_OneWrittenThroughTheOldApiAfter_IsRefusedWhole_InTheTableStore()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            DataSource,
            LegacyTables.CustomerOptions(legacy, PostgreSqlKeyType.Integer)
        );
        await DataSource.ExecuteAsync(
            $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1), (2, 'Grace', 1), (3, 'Alan', 1), "
                + "(4, 'Edsger', 1)"
        );
        await RecordWriteBacksAsync(outbox, "1", "2", "3", "4");
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King' WHERE id IN (1, 3)");

        await RefusedAsync(() => store.UpsertManyAsync([new("1", Customer("1")), new("2", Customer("2"))]), "1", 2);
        await RefusedAsync(() => store.DeleteManyAsync(["3", "4"]), "3", 2);

        // None of either batch written: the dispatcher writes each entity alone then (the test below).
        Assert.Equal(
            ["1 Ada King", "2 Grace", "3 Ada King", "4 Edsger"],
            (
                await DataSource.ScalarAsync<string[]>(
                    $"SELECT coalesce(array_agg(id || ' ' || full_name ORDER BY id), '{{}}') FROM \"{legacy}\""
                )
            )!
        );
    }

    [Fact]
    public async Task AWriteBackOfSeveralEntities_OneWrittenThroughTheOldApiAfter_IsRefusedWhole_InTheDocumentStore()
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlOldStore<LegacyCustomer>(DataSource, options);
        await store.UpsertManyAsync([
            .. new[] { "a", "b", "c", "d" }.Select(id => KeyValuePair.Create(id, Customer(id))),
        ]);
        var (_, outbox) = await CapturingLegacyTables.TriggerAsync(DataSource, options.TableName!, "id", compiled);
        await RecordWriteBacksAsync(outbox, "a", "b", "c", "d");
        // The old API's write of the name, whatever the case of its JSON key.
        await DataSource.ExecuteAsync(
            $"UPDATE {store.TableName} SET payload = jsonb_set(payload, "
                + "ARRAY[(SELECT k FROM jsonb_object_keys(payload) "
                + "AS k WHERE lower(k) = 'fullname')], '\"Old API\"') WHERE id IN ('a', 'c')"
        );

        await RefusedAsync(
            () =>
                store.UpsertManyAsync([
                    new("a", LegacyCustomer.Create("a", 9)),
                    new("b", LegacyCustomer.Create("b", 9)),
                ]),
            "a",
            2
        );
        await RefusedAsync(() => store.DeleteManyAsync(["c", "d"]), "c", 2);

        IReadOnlyDictionary<string, LegacyCustomer> rows = await store.FindManyAsync(["a", "b", "c", "d"]);
        Assert.Equal(["a", "b", "c", "d"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("Old API", "Old API", 2), (rows["a"].FullName, rows["c"].FullName, rows["b"].Version));
    }

    [Fact]
    public async Task ADispatchedBatch_WithAWriteBackThatAnOldApiWriteInFlightCameAfter_WritesTheOthers_AndSkipsIt()
    {
        (string legacy, _, ServiceProvider provider) = await MigrationAsync(WriteBackMode.Async);
        await using ServiceProvider disposed = provider;
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        using var applied = Collect(provider, LazyMigrateTelemetry.OutboxAppliedInstrument);
        using var skipped = Collect(provider, LazyMigrateTelemetry.OutboxSkippedInstrument);
        foreach (string id in (string[])["1", "2", "3"])
        {
            await repository.SaveAsync(id, TestKit.Customer.Create(id, 2));
        }

        // An old-API write of entity 2 in flight: its row locked and its capture not committed, so the dispatcher's
        // own check before writing sees nothing, and the batch's upsert waits for the row.
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await InsertInFlightAsync(connection, legacy);

        Task<int> dispatched = dispatcher.RunOnceAsync().AsTask();
        await CommitOnceBlockedAsync(
            transaction,
            dispatched,
            "the batch's write-back waits for the legacy write's row"
        );
        Assert.Equal(3, await dispatched);

        Assert.Equal(
            ["1 First2 Last2", "2 Grace King", "3 First2 Last2"],
            (
                await DataSource.ScalarAsync<string[]>(
                    $"SELECT array_agg(id || ' ' || full_name ORDER BY id) FROM \"{legacy}\""
                )
            )!
        );
        Assert.Equal(2L, applied.GetMeasurementSnapshot().Sum(m => m.Value));
        CollectedMeasurement<long> superseded = Assert.Single(skipped.GetMeasurementSnapshot());
        Assert.Equal(
            ("write_back", "superseded", 1L),
            (
                superseded.Tags["lazymigrate.outbox.kind"] as string,
                superseded.Tags["lazymigrate.outbox.reason"] as string,
                superseded.Value
            )
        );

        // The old-API write came last, and its forward sync makes it the new store's too.
        await dispatcher.DrainAsync();
        TestKit.Customer? synced = await repository.GetAsync("2");
        Assert.Equal(("Grace", "King", 5), (synced?.FirstName, synced?.LastName, synced?.Version));
    }

    [Fact]
    public async Task ASyncSave_ThatAnOldApiWriteInFlightCameAfter_ReturnsAsSaved_AndTheOldApiWriteWinsInBothStores()
    {
        (string legacy, PostgreSqlOutboxOptions outbox, ServiceProvider provider) = await MigrationAsync(
            WriteBackMode.Sync
        );
        await using ServiceProvider disposed = provider;
        using var skipped = Collect(provider, LazyMigrateTelemetry.OutboxSkippedInstrument);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (2, 'Grace H', 1)");
        // A legacy transaction that locks the row before it writes it, as a read for update does.
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"SELECT FROM \"{legacy}\" WHERE id = 2 FOR UPDATE");

        // The save's new store write and its intent commit; its old store write then waits for the row, and the old
        // API's write, recorded after that intent, comes last.
        Task saved = repository.SaveAsync("2", TestKit.Customer.Create("2", 2)).AsTask();
        await CommitOnceBlockedAsync(
            transaction,
            saved,
            "the save's write-back waits for the legacy transaction's row",
            $"UPDATE \"{legacy}\" SET full_name = 'Grace King', version = 5 WHERE id = 2"
        );
        await saved;

        Assert.Equal(
            "Grace King",
            await DataSource.ScalarAsync<string>($"SELECT full_name FROM \"{legacy}\" WHERE id = 2")
        );
        // The save completed its write-back as superseded: what the outbox holds of the entity is the forward sync.
        Assert.Equal(
            [OutboxItemKind.ForwardSync],
            (await new PostgreSqlOutbox(DataSource, outbox).FindAsync(Migration, ["2"])).Select(i => i.Kind)
        );
        Assert.Equal(1L, Assert.Single(skipped.GetMeasurementSnapshot()).Value);
        await dispatcher.DrainAsync();
        TestKit.Customer? synced = await repository.GetAsync("2");
        Assert.Equal(("Grace", "King", 5), (synced?.FirstName, synced?.LastName, synced?.Version));
    }

    /// <summary>
    /// A migration of customers from a new legacy table with the forward sync trigger to a new PostgreSQL store, its
    /// write-backs in <paramref name="mode"/>, its dispatcher run by the test only.
    /// </summary>
    private async Task<(string Legacy, PostgreSqlOutboxOptions Outbox, ServiceProvider Provider)> MigrationAsync(
        WriteBackMode mode
    )
    {
        string legacy = await LegacyTables.CreateCustomersAsync(DataSource, PostgreSqlKeyType.Integer);
        PostgreSqlOutboxOptions outboxOptions = await CapturingLegacyTables.OutboxAsync(DataSource);
        await PostgreSqlForwardSyncTrigger.CreateAsync(
            DataSource,
            CapturingLegacyTables.TriggerOptions(legacy, outboxOptions.TableName, compiled)
        );
        var services = new ServiceCollection().AddMetrics();
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => (o.WriteBackMode, o.ForwardSync) = (mode, true))
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o => (o.TableName, o.KeyType) = (legacy, PostgreSqlKeyType.Integer), DataSource)
            .UsePostgreSqlOutbox(o => o.TableName = outboxOptions.TableName)
            .UsePostgreSqlNewStore(
                o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable("new"), true),
                DataSource
            )
            .UsePostgreSqlAdvisoryLock(dataSource: DataSource)
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        return (legacy, outboxOptions, services.BuildServiceProvider());
    }

    /// <summary>
    /// Once a session waits for a row that <paramref name="transaction"/> holds, runs <paramref name="thenWrite"/> in
    /// it and commits it. Commits it, and waits for <paramref name="waiting"/> to end, whatever happens, so that no
    /// write-back outlives the test.
    /// </summary>
    private async Task CommitOnceBlockedAsync(
        NpgsqlTransaction transaction,
        Task waiting,
        string what,
        string? thenWrite = null
    )
    {
        try
        {
            await Eventually.TrueAsync(() => BlockedByAsync(DataSource, transaction.Connection!.ProcessID), what: what);
            Assert.False(waiting.IsCompleted);
            if (thenWrite is not null)
            {
                await ExecuteAsync(transaction.Connection!, thenWrite);
            }
        }
        finally
        {
            await transaction.CommitAsync();
            await Task.WhenAny(waiting);
        }
    }

    /// <summary>The old API's insert of customer 2, in the open transaction of <paramref name="connection"/>.</summary>
    private static Task InsertInFlightAsync(NpgsqlConnection connection, string legacy) =>
        ExecuteAsync(connection, $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (2, 'Grace King', 5)");

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task TheTriggers_HaveNoBeforeRowTrigger_AndTheRekeyTriggerMeetsOnlyUpdatesOfTheKey()
    {
        var (legacy, _) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);

        Assert.Equal(0L, await BeforeRowTriggersAsync(DataSource, legacy));
        Assert.Equal(
            ["id"],
            (
                await DataSource.ScalarAsync<string[]>(
                    "SELECT coalesce(array_agg(a.attname::text), '{}') FROM pg_trigger t "
                        + "JOIN pg_attribute a ON a.attrelid = t.tgrelid "
                        + "AND a.attnum = ANY (t.tgattr) WHERE t.tgrelid = $1::regclass AND t.tgname LIKE '%_rekey'",
                    [$"\"{legacy}\""]
                )
            )!
        );
    }

    /// <summary>The legacy table's own row triggers that run before a row is written.</summary>
    internal static Task<long> BeforeRowTriggersAsync(NpgsqlDataSource dataSource, string table) =>
        dataSource.ScalarAsync<long>(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal "
                + "AND tgtype & 1 = 1 AND tgtype & 2 = 2",
            [table.StartsWith('"') ? table : $"\"{table}\""]
        );

    private static MetricCollector<long> Collect(ServiceProvider provider, string instrument) =>
        new(provider.GetRequiredService<IMeterFactory>(), LazyMigrateTelemetry.MeterName, instrument);

    internal static LegacyCustomer Customer(string id) =>
        new()
        {
            Id = id,
            FullName = "Written Back",
            Version = 2,
        };

    internal static async Task RecordWriteBacksAsync(PostgreSqlOutbox outbox, params string[] ids)
    {
        foreach (string id in ids)
        {
            await outbox.RecordAsync(new OutboxIntent(Migration, OutboxItemKind.WriteBack, id, null, OutboxTables.T0));
        }
    }

    /// <summary>
    /// A legacy write after a write-back's intent holds its row until it commits: the write-back (an upsert, or a
    /// delete) reaches the row first and waits. The row must end as the legacy write left it: named
    /// <paramref name="expected"/>, or absent where that is <see langword="null"/>.
    /// </summary>
    private async Task WriteBackAfterALegacyWriteInFlightAsync(
        NpgsqlDataSource dataSource,
        string legacyWrite,
        bool writeBackDeletes,
        string? expected
    )
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(dataSource, compiled);
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            dataSource,
            LegacyTables.CustomerOptions(legacy, PostgreSqlKeyType.Integer)
        );
        await dataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        await RecordWriteBacksAsync(outbox, "1");
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand(string.Format(legacyWrite, $"\"{legacy}\""), connection))
        {
            await write.ExecuteNonQueryAsync();
        }

        Task writeBack = writeBackDeletes
            ? store.DeleteAsync("1").AsTask()
            : store.UpsertAsync("1", LegacyCustomer.Create("1", 2)).AsTask();
        await Eventually.TrueAsync(
            () => BlockedByAsync(dataSource, connection.ProcessID),
            what: "the write-back waits for the legacy write's row"
        );
        Assert.False(writeBack.IsCompleted);
        await transaction.CommitAsync();
        await RefusedAsync(() => new ValueTask(writeBack), "1");

        Assert.Equal(
            expected,
            await dataSource.ScalarAsync<string?>($"SELECT full_name FROM \"{legacy}\" WHERE id = 1")
        );
    }

    /// <summary>
    /// Runs a write-back that the order check refuses: the old store throws, naming the entity (a batch: its first id
    /// and how many it held), with PostgreSQL's refusal inside.
    /// </summary>
    internal static async Task RefusedAsync(Func<ValueTask> writeBack, string entityId, int entityCount = 1)
    {
        var refused = await Assert.ThrowsAsync<WriteBackSupersededException>(async () => await writeBack());
        Assert.Equal((entityId, entityCount), (refused.EntityId, refused.EntityCount));
        Assert.Equal("LM001", Assert.IsType<PostgresException>(refused.InnerException).SqlState);
        Assert.Contains($"'{entityId}'", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Whether a session waits for a lock that the backend <paramref name="pid"/> holds.</summary>
    internal static Task<bool> BlockedByAsync(NpgsqlDataSource dataSource, int pid) =>
        dataSource.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid)))",
            [pid]
        );
}
