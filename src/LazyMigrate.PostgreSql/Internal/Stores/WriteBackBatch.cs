using System.Data;
using System.Data.Common;
using System.Transactions;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Runs the batch of a write-back to an old store: the write-back mark (<see cref="WriteBackMark"/>) and the writes, at
/// read committed whatever the database's default. The forward sync trigger's order check must see a legacy write that
/// committed while the write-back waited for its row, which a snapshot taken at the start of the batch (repeatable
/// read) would not.
/// </summary>
/// <remarks>
/// <para>
/// On its own, the batch is a transaction of its own (<c>BEGIN ISOLATION LEVEL READ COMMITTED</c> to <c>COMMIT</c>).
/// </para>
/// <para>
/// Inside an ambient transaction that the connection enlisted in, it is a savepoint instead, so that the order check's
/// refusal (<see cref="SupersededWriteBacks"/>), or any other failure, rolls back the write-back alone, not the
/// caller's transaction; and the mark is cleared before the savepoint is released, so that the caller's own legacy
/// writes after it, in the same transaction, are captured as old-API writes. A savepoint runs at the caller's
/// isolation level, which it cannot change: above read committed, a legacy write that committed after the caller's
/// snapshot fails the write-back with a serialization failure (SQLSTATE <c>40001</c>), from PostgreSQL or from the
/// trigger's check of a delete it cannot see, for the caller to retry its transaction.
/// </para>
/// <para>
/// A multiplexing data source shares each physical connection between commands, and Npgsql cannot end a transaction a
/// failed batch began there: the batch is the implicit transaction of its one round trip, which ends with it whatever
/// happens, starting with <c>SET TRANSACTION ISOLATION LEVEL READ COMMITTED</c> only where the sessions' default is
/// another level (PostgreSQL answers that with a warning outside a transaction block).
/// </para>
/// </remarks>
internal sealed class WriteBackBatch
{
    private const string Savepoint = "lazymigrate_write_back";
    private const string Unmark = "SELECT set_config('" + WriteBackMark.Setting + "', 'off', true)";
    private const string ReadCommitted = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED";

    private readonly bool _enlists;
    private readonly bool _multiplexing;

    // Multiplexing only, read at the first write-back: whether the sessions begin their transactions at read committed.
    private bool? _readCommittedByDefault;

    /// <param name="dataSource">The data source the write-backs run on.</param>
    public WriteBackBatch(NpgsqlDataSource dataSource)
    {
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        _multiplexing = settings.Multiplexing;
        _enlists = settings.Enlist;
    }

    /// <summary>
    /// The scope of a write-back whose connection is opened now: call it just before opening the connection, which
    /// enlists in the ambient transaction there is then.
    /// </summary>
    public WriteBackScope ScopeNow() =>
        _multiplexing ? WriteBackScope.Implicit
        : _enlists && Transaction.Current is not null ? WriteBackScope.Savepoint
        : WriteBackScope.Transaction;

    /// <summary>
    /// Runs <paramref name="writes"/>, marked, on <paramref name="connection"/> in <paramref name="scope"/> (of
    /// <see cref="ScopeNow"/> when the connection was opened), prepared first where <paramref name="prepare"/> says
    /// so. When the batch fails inside an ambient transaction, whether the order check refused it or anything else
    /// failed, rolls back to the savepoint first, so that the caller's transaction goes on, and rethrows.
    /// </summary>
    public async ValueTask ExecuteAsync(
        NpgsqlConnection connection,
        WriteBackScope scope,
        IReadOnlyList<NpgsqlBatchCommand> writes,
        bool prepare,
        CancellationToken cancellationToken
    )
    {
        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            string? opening = scope switch
            {
                WriteBackScope.Transaction => StoreLockSql.Begin,
                WriteBackScope.Savepoint => $"SAVEPOINT {Savepoint}",
                _ => await ReadsCommittedAsync(connection, cancellationToken).ConfigureAwait(false)
                    ? null
                    : ReadCommitted,
            };
            if (opening is not null)
            {
                batch.BatchCommands.Add(new(opening));
            }

            batch.BatchCommands.Add(WriteBackMark.Command());
            foreach (NpgsqlBatchCommand write in writes)
            {
                batch.BatchCommands.Add(write);
            }

            if (scope == WriteBackScope.Savepoint)
            {
                batch.BatchCommands.Add(new(Unmark));
                batch.BatchCommands.Add(new($"RELEASE SAVEPOINT {Savepoint}"));
            }
            else if (scope == WriteBackScope.Transaction)
            {
                batch.BatchCommands.Add(new(StoreLockSql.Commit));
            }

            if (prepare)
            {
                await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (scope == WriteBackScope.Savepoint && RanOnTheServer(e, batch))
            {
                await RollBackToSavepointAsync(connection, e).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Whether the batch failed on the server after its <c>SAVEPOINT</c>, so that there is a savepoint to roll back
    /// to: an error of a later command, or a cancellation or command timeout that PostgreSQL carried out. Not a
    /// cancellation Npgsql raised before sending anything, nor a failure of the <c>SAVEPOINT</c> itself: rolling back
    /// to a savepoint that was never made would fail, and abort the caller's transaction, which nothing had touched.
    /// </summary>
    private static bool RanOnTheServer(Exception exception, NpgsqlBatch batch) =>
        exception switch
        {
            PostgresException failed => failed.BatchCommand != batch.BatchCommands[0],
            OperationCanceledException { InnerException: PostgresException } => true,
            NpgsqlException { InnerException: TimeoutException } => true,
            _ => false,
        };

    /// <summary>
    /// Rolls back to the savepoint and releases it, which rolling back alone does not: a savepoint left behind for each
    /// failure would pile up in the caller's transaction. Not cancellable: the caller's transaction must go on. A
    /// connection that broke took the caller's transaction with it, which its commit then reports. A rollback that
    /// fails leaves the caller's transaction aborted, so it throws, never leaving <paramref name="failure"/> to be
    /// taken for a refusal the store reports as superseded (<see cref="SupersededWriteBacks"/>) while the caller goes
    /// on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The rollback failed: the ambient transaction is lost.</exception>
    private static async ValueTask RollBackToSavepointAsync(NpgsqlConnection connection, Exception failure)
    {
        if (connection.State != ConnectionState.Open)
        {
            return;
        }

        var rollback = new NpgsqlCommand(
            $"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}",
            connection
        );
        await using (rollback.ConfigureAwait(false))
        {
            try
            {
                await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (DbException rollbackFailure)
            {
                throw new InvalidOperationException(
                    "A write-back inside an ambient transaction failed, and so did the rollback to its savepoint: the "
                        + "ambient transaction is aborted and cannot commit.",
                    new AggregateException(failure, rollbackFailure)
                );
            }
        }
    }

    private async ValueTask<bool> ReadsCommittedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_readCommittedByDefault is { } known)
        {
            return known;
        }

        var show = new NpgsqlCommand("SELECT current_setting('default_transaction_isolation')", connection);
        await using (show.ConfigureAwait(false))
        {
            object? level = await show.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return (_readCommittedByDefault = level is "read committed").Value;
        }
    }
}
