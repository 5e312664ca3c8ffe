using System.Transactions;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The batch of a write-back to an old store: the write-back mark (<see cref="WriteBackMark"/>) and the writes, in a
/// transaction of their own at read committed, whatever the database's default. The forward sync trigger's order check
/// must see a legacy write that committed while the write-back waited for its row, which a snapshot taken at the start
/// of the batch (repeatable read) would not. Inside an ambient transaction, which the connection enlisted in, the batch
/// is a savepoint instead, so that the order check's refusal (<see cref="SupersededWriteBacks"/>) rolls back the
/// write-back alone, not the caller's transaction.
/// </summary>
internal static class WriteBackBatch
{
    private const string Savepoint = "lazymigrate_write_back";

    /// <summary>Creates the batch on <paramref name="connection"/>: the writes, marked and wrapped.</summary>
    public static NpgsqlBatch Create(NpgsqlConnection connection, IEnumerable<NpgsqlBatchCommand> writes)
    {
        bool ambient = Transaction.Current is not null;
        var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new(ambient ? $"SAVEPOINT {Savepoint}" : StoreLockSql.Begin));
        batch.BatchCommands.Add(WriteBackMark.Command());
        foreach (NpgsqlBatchCommand write in writes)
        {
            batch.BatchCommands.Add(write);
        }

        batch.BatchCommands.Add(new(ambient ? $"RELEASE SAVEPOINT {Savepoint}" : StoreLockSql.Commit));
        return batch;
    }

    /// <summary>
    /// Runs a batch of <see cref="Create"/>; when the order check refuses it inside an ambient transaction, rolls back
    /// to the savepoint first, so that the caller's transaction goes on, and rethrows.
    /// </summary>
    public static async ValueTask ExecuteAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (SupersededWriteBacks.Is(e) && Transaction.Current is not null)
        {
            var rollback = new NpgsqlCommand($"ROLLBACK TO SAVEPOINT {Savepoint}", batch.Connection);
            await using (rollback.ConfigureAwait(false))
            {
                await rollback.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            throw;
        }
    }
}
