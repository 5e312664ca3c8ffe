using System.Transactions;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;
using static LazyMigrate.PostgreSql.Tests.ForwardSync.WriteBackOrderTests;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// The transaction a write-back to a PostgreSQL old store runs in, wherever the caller's code runs it: inside an
/// ambient transaction the connection enlisted in (a savepoint, whose refusal leaves the caller's transaction going and
/// whose mark ends with it), under an ambient transaction on a data source that does not enlist, and on a multiplexing
/// data source.
/// </summary>
public abstract class WriteBackTransactionTests(PostgresServer server, bool compiled)
{
    /// <summary>The triggers' PL/pgSQL capture functions, the default.</summary>
    [Collection("postgres")]
    public sealed class PlPgSql(PostgresServer server) : WriteBackTransactionTests(server, compiled: false);

    /// <summary>The compiled capture, which hands a write-back's rows to the PL/pgSQL functions.</summary>
    [Collection("postgres")]
    public sealed class Compiled(PostgresServer server) : WriteBackTransactionTests(server, compiled: true);

    private NpgsqlDataSource DataSource => server.DataSource;

    [Fact]
    public async Task InsideAnAmbientTransaction_ARefusedWriteBack_RollsBackAlone_AndTheCallersTransactionCommits()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(DataSource, legacy);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        await RecordWriteBacksAsync(outbox, "1", "2");
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King' WHERE id = 1");

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await RefusedAsync(() => store.UpsertManyAsync([new("1", Customer("1")), new("2", Customer("2"))]), "1", 2);
            await store.UpsertAsync("2", Customer("2"));
            await RefusedAsync(() => store.DeleteAsync("1"), "1");
            // The refusals' savepoints are released, not left to pile up: there is none left to release.
            await DataSource.ExecuteAsync("SAVEPOINT probe");
            PostgresException released = await Assert.ThrowsAsync<PostgresException>(() =>
                DataSource.ExecuteAsync("RELEASE SAVEPOINT lazymigrate_write_back")
            );
            Assert.Equal(PostgresErrorCodes.InvalidSavepointSpecification, released.SqlState);
            await DataSource.ExecuteAsync("ROLLBACK TO SAVEPOINT probe");
            scope.Complete();
        }

        Assert.Equal(["1 Ada King", "2 Written Back"], await RowsAsync(legacy));
    }

    [Fact]
    public async Task InsideAnAmbientTransaction_TheMarkEndsWithTheWriteBack_AndALegacyWriteAfterItIsCaptured()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(DataSource, legacy);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (2, 'Grace', 1)");
        Assert.Equal(1L, await CapturingLegacyTables.CapturedAsync(outbox, "2"));

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await store.UpsertAsync("1", Customer("1"));
            int session = await DataSource.ScalarAsync<int>("SELECT pg_backend_pid()");
            // The caller's own write, in the same transaction and on the same session as the write-back.
            await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 2");
            Assert.Equal(session, await DataSource.ScalarAsync<int>("SELECT pg_backend_pid()"));
            scope.Complete();
        }

        Assert.Equal(
            (0L, 2L),
            (
                await CapturingLegacyTables.CapturedAsync(outbox, "1"),
                await CapturingLegacyTables.CapturedAsync(outbox, "2")
            )
        );
    }

    [Fact]
    public async Task InsideAnAmbientTransaction_AWriteBackThatFails_RollsBackAlone_AndTheCallersTransactionGoesOn()
    {
        var (legacy, _) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        await DataSource.ExecuteAsync($"ALTER TABLE \"{legacy}\" ADD CHECK (version >= 0)");
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(DataSource, legacy);

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            PostgresException failure = await Assert.ThrowsAsync<PostgresException>(() =>
                store.UpsertAsync("1", LegacyCustomer.Create("1", -1)).AsTask()
            );
            Assert.Equal(PostgresErrorCodes.CheckViolation, failure.SqlState);
            await store.UpsertAsync("2", Customer("2"));
            scope.Complete();
        }

        Assert.Equal(["2 Written Back"], await RowsAsync(legacy));
    }

    [Fact]
    public async Task InsideAnAmbientTransaction_AWriteBackCancelledWhileItWaits_RollsBackAlone_AndTheCallerGoesOn()
    {
        var (legacy, _) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(DataSource, legacy);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        await using NpgsqlDataSource probe = Unenlisted();
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction inFlight = await connection.BeginTransactionAsync();
        await using (var update = new NpgsqlCommand($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 1", connection))
        {
            await update.ExecuteNonQueryAsync();
        }

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            using var cancellation = new CancellationTokenSource();
            Task writeBack = store.UpsertAsync("1", Customer("1"), cancellation.Token).AsTask();
            await Eventually.TrueAsync(
                () => BlockedByAsync(probe, connection.ProcessID),
                what: "the write-back waits for the legacy write's row"
            );
            await cancellation.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writeBack);
            await store.UpsertAsync("2", Customer("2"));
            scope.Complete();
        }

        await inFlight.CommitAsync();
        Assert.Equal(["1 Ada", "2 Written Back"], await RowsAsync(legacy));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task InsideAnAmbientTransaction_AWriteBackCancelledBeforeItIsSent_TouchesNothing_AndTheCallerGoesOn(
        bool prepared
    )
    {
        var (legacy, _) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        using var cancellation = new CancellationTokenSource();
        bool armed = false;
        // Once armed, the token is cancelled as the next physical connection opens: the write-back's, which Npgsql
        // then opens and enlists, and refuses to send the batch on.
        var builder = new NpgsqlDataSourceBuilder(server.ConnectionString);
        builder.UsePhysicalConnectionInitializer(
            _ => Cancel(),
            _ =>
            {
                Cancel();
                return Task.CompletedTask;
            }
        );
        await using NpgsqlDataSource cancelling = builder.Build();
        var options = LegacyTables.CustomerOptions(legacy, PostgreSqlKeyType.Integer);
        // Prepared, the batch is cancelled as Npgsql would prepare it; otherwise as it would send it.
        options.PrepareStatements = prepared;
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(cancelling, options);
        // What the store reads once (the key's sequence) is read before the cancellation is armed.
        await store.UpsertAsync("2", Customer("2"));
        // Its pooled connection taken, the write-back opens a physical connection of its own.
        await using NpgsqlConnection held = await cancelling.OpenConnectionAsync();
        armed = true;

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                store.UpsertAsync("1", Customer("1"), cancellation.Token).AsTask()
            );
            Assert.Null(cancelled.InnerException);
            Assert.Contains(nameof(WriteBackBatch), cancelled.StackTrace, StringComparison.Ordinal);
            // Nothing was sent, so nothing was rolled back: a rollback to a savepoint never made would have aborted
            // the caller's transaction, and this would fail.
            await store.UpsertAsync("3", Customer("3"));
            scope.Complete();
        }

        Assert.Equal(["2 Written Back", "3 Written Back"], await RowsAsync(legacy));

        void Cancel()
        {
            if (armed)
            {
                cancellation.Cancel();
            }
        }
    }

    [Theory]
    [InlineData(IsolationLevel.RepeatableRead)]
    [InlineData(IsolationLevel.Serializable)]
    public async Task AboveReadCommitted_AWriteBackThatWaitedForALegacyDeleteItsSnapshotMisses_FailsToSerialize(
        IsolationLevel level
    )
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(DataSource, legacy);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        // The write-back's intent comes after that insert: only the delete below could make the order check refuse it.
        await RecordWriteBacksAsync(outbox, "1");
        await using NpgsqlDataSource probe = Unenlisted();
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction inFlight = await connection.BeginTransactionAsync();
        await using (var delete = new NpgsqlCommand($"DELETE FROM \"{legacy}\" WHERE id = 1", connection))
        {
            await delete.ExecuteNonQueryAsync();
        }

        using (
            new TransactionScope(
                TransactionScopeOption.Required,
                new TransactionOptions { IsolationLevel = level },
                TransactionScopeAsyncFlowOption.Enabled
            )
        )
        {
            // Its snapshot, taken by its first statement, sees the row; its upsert waits for the delete's lock.
            Task writeBack = store.UpsertAsync("1", Customer("1")).AsTask();
            await Eventually.TrueAsync(
                () => BlockedByAsync(probe, connection.ProcessID),
                what: "the write-back waits for the legacy delete's row"
            );
            await inFlight.CommitAsync();
            PostgresException failure = await Assert.ThrowsAsync<PostgresException>(() => writeBack);
            Assert.Equal(PostgresErrorCodes.SerializationFailure, failure.SqlState);
        }

        Assert.Empty(await RowsAsync(legacy));
    }

    [Fact]
    public async Task OnADataSourceThatDoesNotEnlist_AWriteBackUnderAnAmbientTransaction_RunsInATransactionOfItsOwn()
    {
        await using NpgsqlDataSource unenlisted = Unenlisted();
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(unenlisted, compiled);
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(unenlisted, legacy);

        using (new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await store.UpsertAsync("1", Customer("1"));
            // The scope is not completed: the write-back, outside it, stays.
        }

        Assert.Equal(["1 Written Back"], await RowsAsync(legacy));
        Assert.Equal(0L, await CapturingLegacyTables.CapturedAsync(outbox, "1"));
    }

    [Fact]
    public async Task OnAMultiplexingDataSource_ARefusedWriteBack_LeavesTheSharedConnectionFitForTheNextOnes()
    {
        await using NpgsqlDataSource multiplexing = NpgsqlDataSource.Create(
            server.ConnectionString + ";Multiplexing=true"
        );
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(multiplexing, compiled);
        PostgreSqlTableOldStore<LegacyCustomer> store = Store(multiplexing, legacy);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        await RecordWriteBacksAsync(outbox, "1", "2", "3");
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET full_name = 'Ada King' WHERE id = 1");

        await RefusedAsync(() => store.UpsertManyAsync([new("1", Customer("1")), new("2", Customer("2"))]), "1", 2);
        await store.UpsertManyAsync([new("2", Customer("2"))]);
        await store.UpsertAsync("3", Customer("3"));

        Assert.Equal(["1 Ada King", "2 Written Back", "3 Written Back"], await RowsAsync(legacy));
        Assert.Equal(0L, await CapturingLegacyTables.CapturedAsync(outbox, "2", "3"));
    }

    /// <summary>A data source of the server's that never enlists in an ambient transaction.</summary>
    private NpgsqlDataSource Unenlisted() => NpgsqlDataSource.Create(server.ConnectionString + ";Enlist=false");

    private static PostgreSqlTableOldStore<LegacyCustomer> Store(NpgsqlDataSource dataSource, string legacy) =>
        new(dataSource, LegacyTables.CustomerOptions(legacy, PostgreSqlKeyType.Integer));

    private async Task<string[]> RowsAsync(string legacy) =>
        (
            await DataSource.ScalarAsync<string[]>(
                $"SELECT coalesce(array_agg(id || ' ' || full_name ORDER BY id), '{{}}') FROM \"{legacy}\""
            )
        )!;
}
