using System.Data;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// Migration locks a <see cref="PostgreSqlNewStore{TNew}"/> holds: transaction-scoped advisory locks
/// (<see cref="StoreLockSql"/>) in an open transaction on a connection of its own, taken with the re-read in one batch
/// and released by the insert's <c>COMMIT</c> in another, or by a <c>ROLLBACK</c> on dispose.
/// </summary>
/// <remarks>
/// <para>A lost lock cannot lead to a write: the insert runs in the lock's transaction, which dies with its connection,
/// so it fails and writes nothing. <see cref="HandleLostToken"/> is therefore <see cref="CancellationToken.None"/>:
/// noticing the loss earlier would need a pending read on the connection (a task per lock) for a log line.</para>
/// <para>Single-use: after the insert or the dispose, the locks are gone and the connection is back in the pool.</para>
/// </remarks>
internal sealed class PostgreSqlNewStoreLock<T> : INewStoreLock<T>
    where T : class
{
    private readonly DocumentTable<T> _table;
    private readonly NpgsqlConnection _connection;
    private int _released;
    private Exception? _insertFailure;

    private PostgreSqlNewStoreLock(DocumentTable<T> table, NpgsqlConnection connection, IReadOnlyDictionary<string, NewStoreRead<T>> current)
    {
        _table = table;
        _connection = connection;
        Current = current;
    }

    public IReadOnlyDictionary<string, NewStoreRead<T>> Current { get; }

    public CancellationToken HandleLostToken => CancellationToken.None;

    /// <summary>
    /// One round trip: <c>BEGIN</c>, <c>SET LOCAL lock_timeout</c> (unless <paramref name="timeout"/> is zero: then the
    /// locks are tried once), the locks, and the re-read. A lock not granted in time rolls everything back and returns
    /// <see langword="null"/>; any failure rolls back too, then is thrown. Nothing stays locked unless this returns a lock.
    /// </summary>
    /// <param name="table">The new store's table.</param>
    /// <param name="ids">Valid ids, at least one.</param>
    /// <param name="timeout">How long each lock may wait: zero tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits without limit.</param>
    /// <param name="cancellationToken">Cancels the wait; whatever was granted is rolled back.</param>
    public static async ValueTask<PostgreSqlNewStoreLock<T>?> TryAcquireAsync(DocumentTable<T> table, string[] ids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await table.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection connection = await table.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        PostgreSqlNewStoreLock<T>? held = null;
        try
        {
            bool granted;
            Dictionary<string, NewStoreRead<T>> current;
            bool tryOnce = timeout == TimeSpan.Zero;
            NpgsqlBatch batch = new(connection);
            await using (batch.ConfigureAwait(false))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.Begin));
                if (!tryOnce)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.SetLockTimeout(timeout)));
                    batch.Timeout = CommandTimeout(connection, timeout);
                }

                batch.BatchCommands.Add(new NpgsqlBatchCommand(tryOnce ? StoreLockSql.TryLock : StoreLockSql.Lock)
                {
                    Parameters = { DocumentTable<T>.Text(table.Sql.LockKeyPrefix), DocumentTable<T>.TextArray(ids) },
                });
                batch.BatchCommands.Add(new NpgsqlBatchCommand(table.Sql.FindMany) { Parameters = { DocumentTable<T>.TextArray(ids) } });

                NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // BEGIN and SET return no result: the first is the locks', the second the re-read's.
                    await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    granted = !tryOnce || reader.GetBoolean(0);
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    current = await table.ReadNewStoreRowsAsync(reader, ids.Length, cancellationToken).ConfigureAwait(false);
                }
            }

            // Only once the batch has completed: from here on the connection and its locks belong to the lock object.
            held = granted ? new PostgreSqlNewStoreLock<T>(table, connection, current) : null;
            return held;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // lock_timeout: a lock stayed held by another transaction for the whole timeout.
            return null;
        }
        finally
        {
            if (held is null)
            {
                // Not granted, timed out, failed or cancelled: the rollback releases whatever was granted.
                await CloseAsync(table, connection, rollBack: true).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(IReadOnlyCollection<KeyValuePair<string, T>> entities, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entities);
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            throw new InvalidOperationException(
                _insertFailure is null
                    ? "The migration locks were already released."
                    : "The migration locks were already released: the insert that released them failed, and its transaction was rolled back or lost with its connection.",
                _insertFailure);
        }

        bool committed = false;
        try
        {
            var (ids, payloads) = _table.InsertManyParameters(entities);
            NpgsqlBatch batch = new(_connection);
            await using (batch.ConfigureAwait(false))
            {
                if (entities.Count > 0)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand(_table.Sql.InsertManyIfAbsent) { Parameters = { ids, payloads } });
                }

                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.Commit));
                List<string> inserted;
                NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    inserted = entities.Count > 0 ? await DocumentTable<T>.ReadInsertedIdsAsync(reader, entities.Count, cancellationToken).ConfigureAwait(false) : [];

                    // Up to the COMMIT's completion: only a committed insert counts.
                    while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                    {
                    }
                }

                committed = true;
                return inserted;
            }
        }
        catch (Exception exception)
        {
            _insertFailure = exception;
            throw;
        }
        finally
        {
            await CloseAsync(_table, _connection, rollBack: !committed).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            await CloseAsync(_table, _connection, rollBack: true).ConfigureAwait(false);
        }
    }

    /// <summary>The batch's timeout: the connection's command timeout on top of the lock wait (0, no limit, for an infinite wait).</summary>
    private static int CommandTimeout(NpgsqlConnection connection, TimeSpan lockTimeout) =>
        lockTimeout == Timeout.InfiniteTimeSpan || connection.CommandTimeout == 0
            ? 0
            : (int)Math.Min(int.MaxValue, connection.CommandTimeout + Math.Ceiling(lockTimeout.TotalSeconds));

    /// <summary>
    /// Rolls back (releasing the locks) and returns the connection; never throws. A connection that is already dead took
    /// its locks with it. One that fails the rollback is not pooled as it is: Npgsql rolls back again when it takes the
    /// connection back, and closes it if that fails too, which ends the session and its locks.
    /// </summary>
    private static async ValueTask CloseAsync(DocumentTable<T> table, NpgsqlConnection connection, bool rollBack)
    {
        Exception? failure = null;
        if (rollBack && connection.State == ConnectionState.Open)
        {
            try
            {
                NpgsqlCommand rollback = new(StoreLockSql.Rollback, connection);
                await using (rollback.ConfigureAwait(false))
                {
                    await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            failure ??= exception;
        }

        if (failure is not null)
        {
            PostgreSqlLog.StoreLockRollbackFailed(table.Logger, table.Name.Qualified, failure);
        }
    }
}
