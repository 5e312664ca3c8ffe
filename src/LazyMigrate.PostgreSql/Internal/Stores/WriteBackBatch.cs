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
/// refusal (<see cref="SupersededWriteBacks"/>) rolls back the write-back alone, not the caller's transaction; and the
/// mark is cleared before the savepoint is released, so that the caller's own legacy writes after it, in the same
/// transaction, are captured as old-API writes.
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
        _enlists = settings.Enlist && !settings.Multiplexing;
    }

    private enum Scope
    {
        Transaction,
        Savepoint,
        Implicit,
    }

    /// <summary>
    /// Runs <paramref name="writes"/>, marked, on <paramref name="connection"/>, prepared first where
    /// <paramref name="prepare"/> says so. When the order check refuses them inside an ambient transaction, rolls back
    /// to the savepoint first, so that the caller's transaction goes on, and rethrows.
    /// </summary>
    public async ValueTask ExecuteAsync(
        NpgsqlConnection connection,
        IReadOnlyList<NpgsqlBatchCommand> writes,
        bool prepare,
        CancellationToken cancellationToken
    )
    {
        Scope scope =
            _multiplexing ? Scope.Implicit
            : _enlists && Transaction.Current is not null ? Scope.Savepoint
            : Scope.Transaction;
        var batch = new NpgsqlBatch(connection);
        await using (batch.ConfigureAwait(false))
        {
            string? opening = scope switch
            {
                Scope.Transaction => StoreLockSql.Begin,
                Scope.Savepoint => $"SAVEPOINT {Savepoint}",
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

            if (scope == Scope.Savepoint)
            {
                batch.BatchCommands.Add(new(Unmark));
                batch.BatchCommands.Add(new($"RELEASE SAVEPOINT {Savepoint}"));
            }
            else if (scope == Scope.Transaction)
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
            catch (PostgresException e) when (scope == Scope.Savepoint && SupersededWriteBacks.Is(e))
            {
                await RollBackToSavepointAsync(connection).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Rolls back to the savepoint and releases it, which rolling back alone does not: a savepoint left behind for each
    /// refusal would pile up in the caller's transaction. Not cancellable: the caller's transaction must go on.
    /// </summary>
    private static async ValueTask RollBackToSavepointAsync(NpgsqlConnection connection)
    {
        var rollback = new NpgsqlCommand(
            $"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}",
            connection
        );
        await using (rollback.ConfigureAwait(false))
        {
            await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
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
