using System.Data;
using System.Diagnostics;
using LazyMigrate.Outbox;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Migration locks a <see cref="PostgreSqlNewStore{TNew}"/> holds: transaction-scoped advisory locks
/// (<see cref="StoreLockSql"/>) in an open transaction on a connection of its own, taken with the re-read in one batch
/// (two when a lock is held elsewhere) and released by the insert's <c>COMMIT</c> in another, or by a <c>ROLLBACK</c>
/// on dispose.
/// </summary>
/// <remarks>
/// <para>A lost lock cannot lead to a write: the insert runs in the lock's transaction, which dies with its connection,
/// so it fails and writes nothing. The lock learns of a loss at its release: a <c>ROLLBACK</c> (on dispose, or after a
/// failed insert) that fails, or a connection already broken, means the locks were lost or cannot be vouched for, and
/// <see cref="HandleLostToken"/> is cancelled then. Noticing it earlier would need a pending read on the connection (a
/// task per lock).</para>
/// <para>Single-use: after the insert or the dispose, the locks are gone and the connection is back in the pool.</para>
/// <para>When the old table lives in the same database, in either old-store layout, the lock's batch also reads it
/// (<see cref="StoreLockStatements"/>): <see cref="OldEntities"/> then holds what the migration would otherwise read
/// in a round trip of its own. Without it, <typeparamref name="TOld"/> is <see cref="NoOldTable"/>, which no migration
/// asks for.</para>
/// <para>The lock of a store with an outbox (<see cref="PostgreSqlOutboxNewStore{TNew}"/>) also records the intents of
/// the ids it inserts, in the insert's statement (<see cref="OutboxStoreWrites{T}"/>), before the same
/// <c>COMMIT</c>.</para>
/// </remarks>
/// <typeparam name="T">The entity type of the new store.</typeparam>
/// <typeparam name="TOld">The entity type of the old table read along, or <see cref="NoOldTable"/>.</typeparam>
internal sealed class PostgreSqlNewStoreLock<T, TOld> : IOutboxNewStoreLock<T>, IOldStoreReadAlong<TOld>
    where T : class
    where TOld : class
{
    private static readonly IReadOnlyDictionary<string, TOld> NothingRead = new Dictionary<string, TOld>();

    private readonly DocumentTable<T> _table;
    private readonly NpgsqlConnection _connection;
    private readonly OutboxStoreWrites<T>? _writes;
    private int _released;
    private int _lost;
    private Exception? _insertFailure;

    /// <summary>Created by the first read of <see cref="HandleLostToken"/> only: most locks are never asked.</summary>
    private CancellationTokenSource? _lostSource;

    private PostgreSqlNewStoreLock(
        DocumentTable<T> table,
        NpgsqlConnection connection,
        IReadOnlyDictionary<string, NewStoreRead<T>> current,
        IReadOnlyDictionary<string, TOld> oldEntities,
        OutboxStoreWrites<T>? writes
    )
    {
        _table = table;
        _connection = connection;
        _writes = writes;
        Current = current;
        OldEntities = oldEntities;
    }

    public IReadOnlyDictionary<string, NewStoreRead<T>> Current { get; }

    public IReadOnlyDictionary<string, TOld> OldEntities { get; }

    /// <summary>
    /// Gets a token cancelled when the release (<see cref="DisposeAsync"/>, or the rollback of a failed insert) finds
    /// the locks gone: their transaction died with its session before the release, so another transaction may have
    /// held them meanwhile. Already cancelled when read after such a release; never cancelled while the locks are
    /// held, nor by a release that succeeds (a <c>COMMIT</c> or a <c>ROLLBACK</c>).
    /// </summary>
    public CancellationToken HandleLostToken
    {
        get
        {
            CancellationTokenSource? source = Volatile.Read(ref _lostSource);
            if (source is null)
            {
                if (Volatile.Read(ref _lost) != 0)
                {
                    return new CancellationToken(canceled: true);
                }

                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _lostSource, created, null) ?? created;
            }

            // A release that found the locks gone before the source was published may not have seen it: cancel here.
            if (Volatile.Read(ref _lost) != 0)
            {
                source.Cancel();
            }

            return source.Token;
        }
    }

    /// <summary>
    /// Takes the locks and reads under them (the new table, and <paramref name="readAlong"/>'s old table if given): one
    /// round trip that tries the locks, and when one is held elsewhere and <paramref name="timeout"/> is not zero, a
    /// second that waits for them (see <see cref="RunLockBatchAsync"/>). A lock not granted in time rolls everything
    /// back and returns <see langword="null"/>; any failure rolls back too, then is thrown. Nothing stays locked unless
    /// this returns a lock.
    /// </summary>
    /// <param name="table">The new store's table.</param>
    /// <param name="statements">The statements that lock and read: <paramref name="readAlong"/>'s, or the new table's
    /// alone.</param>
    /// <param name="readAlong">The old table in the same database to read under the lock; or <see
    /// langword="null"/>.</param>
    /// <param name="ids">Valid ids, at least one.</param>
    /// <param name="timeout">
    /// How long the call may wait for all the locks, counted from its start: zero tries once,
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits without limit.
    /// </param>
    /// <param name="writes">The store's writes into its outbox, if it has one.</param>
    /// <param name="cancellationToken">Cancels the wait; whatever was granted is rolled back.</param>
    public static async ValueTask<PostgreSqlNewStoreLock<T, TOld>?> TryAcquireAsync(
        DocumentTable<T> table,
        StoreLockStatements statements,
        string[] ids,
        TimeSpan timeout,
        OldTableReadAlong<TOld>? readAlong,
        OutboxStoreWrites<T>? writes,
        CancellationToken cancellationToken
    )
    {
        // The server's timeouts run on the real clock, so the time left is measured on it, not on an injected
        // TimeProvider.
        long started = Stopwatch.GetTimestamp();
        await table.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        if (writes is not null)
        {
            await writes.Outbox.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }

        if (readAlong is not null)
        {
            await readAlong.Table.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }

        NpgsqlConnection connection = await table
            .DataSource.OpenConnectionAsync(cancellationToken)
            .ConfigureAwait(false);
        PostgreSqlNewStoreLock<T, TOld>? held = null;
        var wait = default(WaitBound);
        try
        {
            // Free locks, the common case, are taken in a batch of prepared statements without a lock_timeout to set.
            // Otherwise, unless told to try once, roll back what was granted and wait for all in the lock's order.
            LockBatchResult result = await RunLockBatchAsync(
                    table,
                    statements,
                    connection,
                    ids,
                    waitFor: null,
                    readAlong,
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (!result.Granted && timeout != TimeSpan.Zero)
            {
                wait = WaitBound.Start(timeout, started);
                if (wait.Left == TimeSpan.Zero)
                {
                    return null;
                }

                result = await RunLockBatchAsync(
                        table,
                        statements,
                        connection,
                        ids,
                        wait.Left,
                        readAlong,
                        cancellationToken
                    )
                    .ConfigureAwait(false);
            }

            // Only once the batch has completed: from here on the connection and its locks belong to the lock object.
            held = result.Granted
                ? new PostgreSqlNewStoreLock<T, TOld>(table, connection, result.Current, result.OldEntities, writes)
                : null;
            return held;
        }
        catch (PostgresException exception)
            when (exception.SqlState == PostgresErrorCodes.LockNotAvailable || wait.TimedOut(exception))
        {
            // lock_timeout: a lock stayed held by another transaction for the whole timeout; statement_timeout: the
            // locks, each granted in time, were not all granted within it.
            return null;
        }
        finally
        {
            if (held is null)
            {
                // Not granted, timed out, failed or cancelled: the rollback releases whatever was granted.
                _ = await CloseAsync(table, connection, rollBack: true).ConfigureAwait(false);
            }
        }
    }

    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        return InsertAndReleaseAsync(entities, intents: null, cancellationToken);
    }

    /// <exception cref="InvalidOperationException">The store has no outbox to record into.</exception>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentRecordAndReleaseAsync(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(intents);
        return _writes is null
            ? throw new InvalidOperationException(
                $"The new store of {_table.Name.Qualified} has no outbox to record intents into: "
                    + "make it a PostgreSqlOutboxNewStore (UsePostgreSqlOutbox)."
            )
            : InsertAndReleaseAsync(entities, intents, cancellationToken);
    }

    /// <summary>
    /// Inserts (and, with <paramref name="intents"/>, records) and commits in one round trip, then releases the
    /// connection: rolled back first if anything failed.
    /// </summary>
    private async ValueTask<IReadOnlyCollection<string>> InsertAndReleaseAsync(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        IReadOnlyDictionary<string, OutboxIntent>? intents,
        CancellationToken cancellationToken
    )
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            throw new InvalidOperationException(
                _insertFailure is null
                    ? "The migration locks were already released."
                    : "The migration locks were already released: the insert that released them failed, "
                        + "and its transaction was rolled back or lost with its connection.",
                _insertFailure
            );
        }

        bool committed = false;
        try
        {
            NpgsqlBatch batch = new(_connection);
            await using (batch.ConfigureAwait(false))
            {
                NpgsqlBatchCommand? insert = InsertCommand(entities, intents);
                if (insert is not null)
                {
                    batch.BatchCommands.Add(insert);
                }

                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.Commit));
                await _table.Statements.PrepareAsync(batch, cancellationToken).ConfigureAwait(false);
                List<string> inserted;
                NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    inserted = insert is not null
                        ? await DocumentTable<T>
                            .ReadInsertedIdsAsync(reader, entities.Count, cancellationToken)
                            .ConfigureAwait(false)
                        : [];

                    // Up to the COMMIT's completion: only a committed insert counts.
                    while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)) { }
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
            await ReleaseAsync(rollBack: !committed).ConfigureAwait(false);
        }
    }

    /// <summary>The insert of the lock's batch, or <see langword="null"/> when there is nothing to insert.</summary>
    private NpgsqlBatchCommand? InsertCommand(
        IReadOnlyCollection<KeyValuePair<string, T>> entities,
        IReadOnlyDictionary<string, OutboxIntent>? intents
    )
    {
        if (entities.Count == 0)
        {
            return null;
        }

        if (intents is not null)
        {
            return _writes!.InsertManyAndRecordCommand(entities, intents);
        }

        if (entities.Count == 1)
        {
            // One entity, the migration of a single read: the plainer statement.
            var (id, entity) = entities.First();
            PostgreSqlEntityIds.Validate(id);
            return new NpgsqlBatchCommand(_table.Sql.InsertIfAbsentReturningId)
            {
                Parameters = { DocumentTable<T>.Text(id), DocumentTable<T>.Jsonb(_table.Serialize(id, entity)) },
            };
        }

        var (ids, payloads) = _table.InsertManyParameters(entities);
        return new NpgsqlBatchCommand(_table.Sql.InsertManyIfAbsent) { Parameters = { ids, payloads } };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            await ReleaseAsync(rollBack: true).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the lock's connection; when its rollback found the locks gone, cancels the lost token.</summary>
    private async ValueTask ReleaseAsync(bool rollBack)
    {
        if (!await CloseAsync(_table, _connection, rollBack).ConfigureAwait(false))
        {
            Interlocked.Exchange(ref _lost, 1);
            try
            {
                Volatile.Read(ref _lostSource)?.Cancel();
            }
            catch (AggregateException exception)
            {
                // A holder's callback failed: the release still completes, and the insert's own failure stays the
                // one thrown.
                PostgreSqlLog.StoreLockRollbackFailed(_table.Logger, _table.Name.Qualified, exception);
            }
        }
    }

    /// <summary>
    /// One round trip. Without <paramref name="waitFor"/>: <c>BEGIN</c>, the locks tried once, then the reads in a
    /// statement of their own, whose snapshot follows the locks, all prepared. With it: <c>ROLLBACK</c> of the tried
    /// transaction, <c>BEGIN</c>, <c>SET LOCAL lock_timeout</c> and, unless the wait is infinite,
    /// <c>statement_timeout</c>, both to <paramref name="waitFor"/>, a wait for every lock in key order, both settings
    /// back to the database's, then the reads in a statement of their own. The reads count only when the locks were
    /// granted.
    /// </summary>
    private static async ValueTask<LockBatchResult> RunLockBatchAsync(
        DocumentTable<T> table,
        StoreLockStatements statements,
        NpgsqlConnection connection,
        string[] ids,
        TimeSpan? waitFor,
        OldTableReadAlong<TOld>? readAlong,
        CancellationToken cancellationToken
    )
    {
        NpgsqlBatch batch = new(connection);
        await using (batch.ConfigureAwait(false))
        {
            if (waitFor is { } timeout)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.Rollback));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.Begin));
                bool bounded = timeout != Timeout.InfiniteTimeSpan;
                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.SetLockTimeout(timeout)));
                if (bounded)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.SetStatementTimeout(timeout)));
                }

                batch.BatchCommands.Add(
                    new NpgsqlBatchCommand(StoreLockSql.Lock)
                    {
                        Parameters =
                        {
                            DocumentTable<T>.Text(table.Sql.LockKeyPrefix),
                            DocumentTable<T>.TextArray(ids),
                        },
                    }
                );
                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.ResetLockTimeout));
                if (bounded)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.ResetStatementTimeout));
                }

                batch.BatchCommands.Add(
                    ReadCommand(statements.ReadLocked, DocumentTable<T>.TextArray(ids), readAlong?.Table.Keys(ids))
                );
                batch.Timeout = LockWaitCommandTimeout.Of(connection, timeout);
            }
            else
            {
                // A parameter belongs to one command: each statement gets its own.
                bool one = ids.Length == 1;
                NpgsqlParameter IdOrIds() => one ? DocumentTable<T>.Text(ids[0]) : DocumentTable<T>.TextArray(ids);
                batch.BatchCommands.Add(new NpgsqlBatchCommand(StoreLockSql.Begin));
                batch.BatchCommands.Add(
                    new NpgsqlBatchCommand(one ? statements.TryLockOne : statements.TryLockMany)
                    {
                        Parameters = { DocumentTable<T>.Text(table.Sql.LockKeyPrefix), IdOrIds() },
                    }
                );
                batch.BatchCommands.Add(
                    one
                        ? ReadCommand(statements.ReadLockedOne, IdOrIds(), readAlong?.Table.Key(ids[0]))
                        : ReadCommand(statements.ReadLocked, IdOrIds(), readAlong?.Table.Keys(ids))
                );
                await table.Statements.PrepareAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                // ROLLBACK, BEGIN and the SETs return no result; the wait's count, or the try's verdict, comes before
                // the reads. Reads under a try that was refused are not read: they count for nothing.
                if (waitFor is null && !await TriedAndGrantedAsync(reader, cancellationToken).ConfigureAwait(false))
                {
                    return new LockBatchResult(false, [], NothingRead);
                }

                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);

                return await ReadRowsAsync(table, readAlong, reader, ids.Length, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A read statement with its ids and, when the old table read along has keys of its own, their keys.
    /// </summary>
    private static NpgsqlBatchCommand ReadCommand(string sql, NpgsqlParameter ids, NpgsqlParameter? oldKeys)
    {
        var command = new NpgsqlBatchCommand(sql) { Parameters = { ids } };
        if (oldKeys is not null)
        {
            command.Parameters.Add(oldKeys);
        }

        return command;
    }

    /// <summary>Reads the verdict of the try statement: whether every lock was granted.</summary>
    private static async ValueTask<bool> TriedAndGrantedAsync(
        NpgsqlDataReader reader,
        CancellationToken cancellationToken
    )
    {
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return reader.GetBoolean(0);
    }

    /// <summary>
    /// Reads the rows of a <see cref="StoreLockStatements"/> statement: the old table's columns if read along, then
    /// granted, id, deleted, payload, stale per locked id.
    /// </summary>
    private static async ValueTask<LockBatchResult> ReadRowsAsync(
        DocumentTable<T> table,
        OldTableReadAlong<TOld>? readAlong,
        NpgsqlDataReader reader,
        int count,
        CancellationToken cancellationToken
    )
    {
        bool granted = true;
        var current = new Dictionary<string, NewStoreRead<T>>(count, StringComparer.Ordinal);
        Dictionary<string, TOld>? oldEntities = readAlong is null ? null : new(count, StringComparer.Ordinal);
        int first = readAlong?.Table.Sql.ColumnCount ?? 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            granted &= reader.GetBoolean(first);
            string id = reader.GetString(first + 1);
            if (!reader.IsDBNull(first + 2))
            {
                current[id] = table.ReadNewStoreRow(reader, first + 2, id);
            }
            else if (oldEntities is not null && readAlong!.Table.TryRead(reader, id, out TOld? old))
            {
                oldEntities[id] = old!;
            }
        }

        return new LockBatchResult(granted, current, oldEntities ?? NothingRead);
    }

    /// <summary>
    /// Rolls back (releasing the locks) and returns the connection; never throws. A connection that is already dead
    /// took its locks with it. One that fails the rollback is not pooled as it is: Npgsql rolls back again when it
    /// takes the connection back, and closes it if that fails too, which ends the session and its locks.
    /// </summary>
    /// <returns>
    /// Whether the transaction was alive up to its end: <see langword="false"/> when the rollback was due and the
    /// connection was no longer open or the rollback failed, so the locks were lost before (or cannot be vouched for).
    /// </returns>
    private static async ValueTask<bool> CloseAsync(DocumentTable<T> table, NpgsqlConnection connection, bool rollBack)
    {
        Exception? failure = null;
        bool alive = !rollBack || connection.State == ConnectionState.Open;
        if (rollBack && alive)
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
                alive = false;
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

        return alive;
    }

    /// <summary>
    /// The bound of a wait for locks: the time left of the call's timeout when the wait starts, which becomes the
    /// wait's <c>statement_timeout</c>. The default is no wait at all.
    /// </summary>
    private readonly record struct WaitBound(TimeSpan Left, long Started)
    {
        public static WaitBound Start(TimeSpan timeout, long callStarted)
        {
            if (timeout == Timeout.InfiniteTimeSpan)
            {
                return new WaitBound(timeout, Stopwatch.GetTimestamp());
            }

            TimeSpan left = timeout - Stopwatch.GetElapsedTime(callStarted);
            return new WaitBound(left > TimeSpan.Zero ? left : TimeSpan.Zero, Stopwatch.GetTimestamp());
        }

        /// <summary>
        /// Gets whether <paramref name="exception"/> is this wait's <c>statement_timeout</c>: 57014 once the bound has
        /// passed. Npgsql reports its own cancellation (the token, its command timeout) as another exception; a 57014
        /// before the bound is someone else's cancel request (<c>pg_cancel_backend</c>), a failure, not a timeout.
        /// </summary>
        public bool TimedOut(PostgresException exception) =>
            exception.SqlState == PostgresErrorCodes.QueryCanceled
            && Left > TimeSpan.Zero
            && Left != Timeout.InfiniteTimeSpan
            && Stopwatch.GetElapsedTime(Started) >= Left;
    }

    /// <summary>What one lock batch found: whether every lock was granted, and the reads made under them.</summary>
    private readonly record struct LockBatchResult(
        bool Granted,
        Dictionary<string, NewStoreRead<T>> Current,
        IReadOnlyDictionary<string, TOld> OldEntities
    );
}
