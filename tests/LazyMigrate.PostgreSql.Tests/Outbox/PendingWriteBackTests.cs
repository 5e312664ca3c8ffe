using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// An <see cref="WriteBackMode.Async"/> save on PostgreSQL records its write-back in the entity's own row (one row
/// written, not two), and the outbox makes an item of it before it claims, finds or counts: every reader of the outbox
/// sees it as the item it becomes, ordered by when the save ran.
/// </summary>
[Collection("postgres")]
public sealed class PendingWriteBackTests(PostgresServer server) : IAsyncLifetime
{
    private const string Migration = "LegacyCustomer->Customer";

    private readonly string _oldTable = TestDatabase.UniqueTable("old");
    private readonly string _newTable = TestDatabase.UniqueTable("new");
    private readonly string _outboxTable = TestDatabase.UniqueTable("outbox");
    private readonly FakeTimeProvider _time = new(OutboxTables.T0);
    private ServiceProvider _provider = null!;

    private NpgsqlDataSource DataSource => server.DataSource;

    private IMigratingRepository<LegacyCustomer, Customer> Repository =>
        _provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

    private IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher =>
        _provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

    private IMigrationOutbox Outbox => _provider.GetRequiredKeyedService<IMigrationOutbox>(Migration);

    private IOldStore<LegacyCustomer> Old => _provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>(Migration);

    public Task InitializeAsync() => StartAsync(WriteBackMode.Async);

    public async Task DisposeAsync() => await _provider.DisposeAsync();

    [Fact]
    public async Task AnAsyncSave_MarksItsRow_WritesNoOutboxRow_AndCountsAsPendingFromTheWritersClock()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));

        Assert.Equal(0L, await OutboxRowsAsync());
        (long? sequence, DateTimeOffset? since) = await MarkAsync("a");
        Assert.NotNull(sequence);
        Assert.Equal(OutboxTables.T0, since);
        OutboxStatistics statistics = await Dispatcher.GetStatisticsAsync();
        Assert.Equal(1L, statistics.Pending[OutboxItemKind.WriteBack]);
        Assert.Equal(OutboxTables.T0, statistics.OldestPendingRecordedAt[OutboxItemKind.WriteBack]);

        await Dispatcher.DrainAsync();

        Assert.Equal(1, (await Old.FindAsync("a"))!.Version);
        Assert.Equal((null, null), await MarkAsync("a"));
        Assert.Equal(0L, await OutboxRowsAsync());
        Assert.Empty((await Dispatcher.GetStatisticsAsync()).Pending);
    }

    [Fact]
    public async Task AnAsyncDelete_MarksItsTombstone_AndTheDispatcherDeletesTheLegacyRecord()
    {
        await Old.UpsertAsync("a", LegacyCustomer.Create("a", 1));
        await Repository.DeleteAsync("a");

        Assert.NotNull((await MarkAsync("a")).Sequence);
        await Dispatcher.DrainAsync();

        Assert.Null(await Old.FindAsync("a"));
        Assert.Equal((null, null), await MarkAsync("a"));
    }

    [Fact]
    public async Task RepeatedSaves_KeepTheFirstTime_AndTakeTheLatestSequence()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        long first = (await MarkAsync("a")).Sequence!.Value;
        _time.Advance(TimeSpan.FromMinutes(1));
        await Repository.SaveAsync("a", Customer.Create("a", 2));

        (long? latest, DateTimeOffset? since) = await MarkAsync("a");

        Assert.True(latest > first);
        Assert.Equal(OutboxTables.T0, since);
    }

    [Fact]
    public async Task ALookup_ReportsAMarkAsAPendingWriteBack_WithTheSavesSequence_AndAClaimMakesTheItem()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        long first = (await MarkAsync("a")).Sequence!.Value;

        OutboxItem pending = Assert.Single(await Outbox.FindAsync(Migration, ["a"]));

        Assert.Equal(
            (OutboxItemKind.WriteBack, first, OutboxTables.T0),
            (pending.Kind, pending.Sequence, pending.RecordedAt)
        );
        Assert.Equal(first, (await MarkAsync("a")).Sequence); // a lookup writes nothing
        OutboxItem claimed = Assert.Single(await Outbox.ClaimAsync(Claim()));
        Assert.Equal((1L, first), (claimed.Version, claimed.Sequence));
        Assert.Equal((null, null), await MarkAsync("a"));

        _time.Advance(TimeSpan.FromMinutes(1));
        await Repository.SaveAsync("a", Customer.Create("a", 2));
        long second = (await MarkAsync("a")).Sequence!.Value;
        OutboxItem both = Assert.Single(await Outbox.FindAsync(Migration, ["a"]));

        Assert.Equal((1L, second), (both.Version, both.Sequence)); // the item, ordered by the later save
    }

    [Fact]
    public async Task AClaim_LeavesTheMarkOfAnEntityWhoseItemIsLive_UntilThatItemIsCompleted()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        OutboxItem claimed = Assert.Single(await Outbox.ClaimAsync(Claim()));
        await Repository.SaveAsync("a", Customer.Create("a", 2));

        _time.Advance(TimeSpan.FromMinutes(5)); // the lease has run out: the item is due again
        OutboxItem again = Assert.Single(await Outbox.ClaimAsync(Claim()));

        Assert.Equal(claimed.Version, again.Version); // the mark stayed a mark
        Assert.NotNull((await MarkAsync("a")).Sequence);
        Assert.Equal(1L, (await Dispatcher.GetStatisticsAsync()).Pending[OutboxItemKind.WriteBack]);

        Assert.Equal(1, await Outbox.CompleteAsync([again]));
        OutboxItem next = Assert.Single(await Outbox.ClaimAsync(Claim()));

        Assert.Equal(1L, next.Version);
        Assert.Equal((null, null), await MarkAsync("a"));
    }

    [Fact]
    public async Task AForwardSyncRecordedAfterTheSave_OrdersAfterIt_ThoughTheOutboxMakesTheItemLater()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        await Outbox.RecordAsync(new OutboxIntent(Migration, OutboxItemKind.ForwardSync, "a", null, OutboxTables.T0));

        IReadOnlyList<OutboxItem> items = await Outbox.FindAsync(Migration, ["a"]);

        OutboxItem writeBack = Assert.Single(items, i => i.Kind == OutboxItemKind.WriteBack);
        OutboxItem forwardSync = Assert.Single(items, i => i.Kind == OutboxItemKind.ForwardSync);
        Assert.True(writeBack.Sequence < forwardSync.Sequence);
    }

    [Fact]
    public async Task AClaim_SkipsAMarkedRowAnotherTransactionHolds_AndTakesItOverOnceItIsFree()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        await Repository.SaveAsync("b", Customer.Create("b", 1));
        await using NpgsqlConnection holder = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT FROM \"{_newTable}\" WHERE id = 'a' FOR UPDATE", holder))
        {
            await hold.ExecuteNonQueryAsync();
        }

        IReadOnlyList<OutboxItem> claimed = await Outbox.ClaimAsync(Claim());

        Assert.Equal(["b"], claimed.Select(i => i.EntityId));
        Assert.NotNull((await MarkAsync("a")).Sequence);

        await transaction.CommitAsync();
        Assert.Equal(["a"], (await Outbox.ClaimAsync(Claim())).Select(i => i.EntityId));
    }

    [Fact]
    public async Task ALookup_DuringATakeOverInFlight_NeitherWaitsNorMissesTheWriteBack()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        var pending = new PendingWriteBacks(
            DocumentTableName.Of("public", _newTable),
            _ => default,
            new OutboxStatements(DocumentTableName.Of("public", _outboxTable))
        );
        await using NpgsqlConnection other = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await other.BeginTransactionAsync();
        await using (var takeOver = new NpgsqlBatch(other, transaction))
        {
            takeOver.BatchCommands.Add(pending.TakeOverDueCommand(Migration, 10));
            Assert.Equal(1, await takeOver.ExecuteNonQueryAsync());
        }

        // The other transaction holds the row and the new item; the lookup reads the mark it has not cleared yet.
        OutboxItem during = Assert.Single(await Outbox.FindAsync(Migration, ["a"]));
        await transaction.CommitAsync();
        OutboxItem after = Assert.Single(await Outbox.FindAsync(Migration, ["a"]));

        Assert.Equal((OutboxItemKind.WriteBack, 0L), (during.Kind, during.Version));
        Assert.Equal((OutboxItemKind.WriteBack, 1L, during.Sequence), (after.Kind, after.Version, after.Sequence));
    }

    [Fact]
    public async Task ATakeOver_RevivesADeadLetteredWriteBack()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        OutboxItem claimed = Assert.Single(await Outbox.ClaimAsync(Claim()));
        await Outbox.DeadLetterAsync(claimed, "the old store refused it");
        Assert.Single(await Outbox.ListDeadLettersAsync(Migration, 10));

        await Repository.SaveAsync("a", Customer.Create("a", 2));
        OutboxItem revived = Assert.Single(await Outbox.ClaimAsync(Claim()));

        Assert.Equal((false, 0, 2L), (revived.IsDeadLettered, revived.Attempts, revived.Version));
        Assert.Empty(await Outbox.ListDeadLettersAsync(Migration, 10));
    }

    [Fact]
    public async Task ALookup_OfADeadLetterWhoseRowALaterSaveMarked_ReportsItPendingAgain()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 1));
        await Outbox.DeadLetterAsync(Assert.Single(await Outbox.ClaimAsync(Claim())), "the old store refused it");
        await Repository.SaveAsync("a", Customer.Create("a", 2));

        OutboxItem found = Assert.Single(await Outbox.FindAsync(Migration, ["a"]));

        Assert.Equal(
            (false, 0, (await MarkAsync("a")).Sequence),
            (found.IsDeadLettered, found.Attempts, found.Sequence)
        );
    }

    [Fact]
    public async Task AfterASwitchToSync_TheWriteBacksAnAsyncRunLeftInRows_AreStillCountedAndApplied()
    {
        await Repository.SaveAsync("a", Customer.Create("a", 7));
        await _provider.DisposeAsync();
        await StartAsync(WriteBackMode.Sync);

        Assert.Equal(1L, (await Dispatcher.GetStatisticsAsync()).Pending[OutboxItemKind.WriteBack]);
        await Dispatcher.DrainAsync();

        Assert.Equal(7, (await Old.FindAsync("a"))!.Version);
        Assert.Equal((null, null), await MarkAsync("a"));
    }

    [Fact]
    public async Task ASyncSave_RecordsItsItemInTheOutbox_AndMarksNoRow()
    {
        await _provider.DisposeAsync();
        await StartAsync(WriteBackMode.Sync);
        using var recorder = new StatementRecorder(_outboxTable);

        using (recorder.Step("save"))
        {
            await Repository.SaveAsync("a", Customer.Create("a", 1));
        }

        Assert.Equal((null, null), await MarkAsync("a"));
        Assert.Contains(recorder.Of("save"), sql => sql.Contains(InsertIntoOutbox, StringComparison.Ordinal));
        Assert.Equal(1, (await Old.FindAsync("a"))!.Version);
    }

    [Fact]
    public async Task CreateSchema_OnATableWithTheStaleColumnOnly_AddsThePendingColumnsAndTheirIndex()
    {
        string table = TestDatabase.UniqueTable("second");
        await DataSource.ExecuteAsync(StaleColumnTests.FirstLayout(table));
        await DataSource.ExecuteAsync($"ALTER TABLE \"{table}\" ADD COLUMN stale boolean NOT NULL DEFAULT false");
        var options = new PostgreSqlDocumentStoreOptions { TableName = table };

        Assert.True(await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, options));
        Assert.False(await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(DataSource, options));

        Assert.Equal(
            2L,
            await DataSource.ScalarAsync<long>(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 "
                    + "AND column_name IN ('writeback_pending', 'writeback_pending_since')",
                table
            )
        );
        Assert.Equal(
            1L,
            await DataSource.ScalarAsync<long>(
                "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%WHERE (writeback_pending%'",
                table
            )
        );
    }

    [Fact]
    public async Task StartAsync_WithAPostgreSqlOutbox_ANewStoreTableWithoutThePendingColumns_FailsSayingHowToAddThem()
    {
        string table = TestDatabase.UniqueTable("second");
        await DataSource.ExecuteAsync(StaleColumnTests.FirstLayout(table));
        await DataSource.ExecuteAsync($"ALTER TABLE \"{table}\" ADD COLUMN stale boolean NOT NULL DEFAULT false");
        using Microsoft.Extensions.Hosting.IHost host = StartupCheckTests.Host(
            DataSource,
            o => o.TableName = table,
            outbox: true
        );

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        string message = ExceptionChain.Messages(error);
        Assert.Contains("column \"writeback_pending\" does not exist", message, StringComparison.Ordinal);
        Assert.Contains("ADD COLUMN IF NOT EXISTS writeback_pending bigint", message, StringComparison.Ordinal);
        Assert.Contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS", message, StringComparison.Ordinal);
    }

    private async Task StartAsync(WriteBackMode mode)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = mode)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => (o.TableName, o.CreateSchema) = (_oldTable, true), DataSource)
            .UsePostgreSqlOutbox(o => (o.TableName, o.CreateSchema) = (_outboxTable, true))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (_newTable, true), DataSource)
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        _provider = services.BuildServiceProvider();

        // The tables are there before a test holds a row or counts one.
        await Repository.GetAsync("absent");
        await Outbox.GetStatisticsAsync(Migration);
    }

    private string InsertIntoOutbox => $"INSERT INTO \"public\".\"{_outboxTable}\"";

    private OutboxClaim Claim() => new(Migration, "test", 10, _time.GetUtcNow(), _time.GetUtcNow().AddMinutes(1));

    private Task<long> OutboxRowsAsync() => DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{_outboxTable}\"");

    private async Task<(long? Sequence, DateTimeOffset? Since)> MarkAsync(string id)
    {
        await using NpgsqlCommand command = DataSource.CreateCommand(
            $"SELECT writeback_pending, writeback_pending_since FROM \"{_newTable}\" WHERE id = $1"
        );
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (
            reader.IsDBNull(0) ? null : reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1)
        );
    }
}
