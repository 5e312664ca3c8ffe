using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// A new store in one PostgreSQL table: <c>jsonb</c> payloads through System.Text.Json, tombstones, and
/// insert-if-absent as <c>INSERT ... ON CONFLICT (id) DO NOTHING</c>, atomic in the database.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
/// <remarks>
/// <para>Thread-safe. Every call is one round trip on a pooled connection of the data source. See
/// docs/postgresql.md.</para>
/// <para>It can also take the migration locks of its entities (<see cref="ILockingNewStore{TNew}"/>, used with
/// <c>UseNewStoreLock</c>): transaction-scoped advisory locks, taken with the re-read in one round trip and released
/// with the insert's commit in another.</para>
/// </remarks>
public sealed class PostgreSqlNewStore<TNew> : ILockingNewStore<TNew>, IBatchWritingNewStore<TNew>
    where TNew : class
{
    private readonly DocumentTable<TNew> _table;
    private readonly StoreLockStatements _lockStatements;
    private readonly bool _multiplexing;
    private readonly OutboxStoreWrites<TNew>? _writes;

    /// <summary>
    /// The last old store asked to be read along, with the answer (a <see cref="ReadAlongChoice{TOld}"/>).
    /// </summary>
    private volatile object? _readAlong;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlNewStore{TNew}"/> class.</summary>
    /// <param name="dataSource">The data source; the store does not dispose it.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public PostgreSqlNewStore(
        NpgsqlDataSource dataSource,
        PostgreSqlDocumentStoreOptions? options = null,
        ILoggerFactory? loggerFactory = null
    )
        : this(dataSource, options, loggerFactory, outbox: null) { }

    /// <summary>A store whose locks record intents into <paramref name="outbox"/> when they insert, if given.</summary>
    internal PostgreSqlNewStore(
        NpgsqlDataSource dataSource,
        PostgreSqlDocumentStoreOptions? options,
        ILoggerFactory? loggerFactory,
        PostgreSqlOutbox? outbox
    )
    {
        _table = new DocumentTable<TNew>(
            dataSource,
            options,
            loggerFactory,
            marksWriteBacks: false,
            staleColumn: true,
            pendingWriteBackColumns: outbox is not null
        );
        _lockStatements = new StoreLockStatements(_table.Name, oldTable: null);
        _multiplexing = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Multiplexing;
        _writes = outbox is null ? null : new OutboxStoreWrites<TNew>(_table, outbox);
    }

    /// <summary>Gets the quoted, schema-qualified table name, for example <c>"public"."customer"</c>.</summary>
    public string TableName => _table.Name.Qualified;

    /// <summary>Gets the writes that record intents with the store's changes, when made with an outbox.</summary>
    internal OutboxStoreWrites<TNew>? Writes => _writes;

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">The stored payload does not deserialize.</exception>
    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        return _table.FindAsync(id, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload does not deserialize.</exception>
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(ids);
        PostgreSqlEntityIds.ValidateAll(ids);
        return _table.FindManyAsync(ids, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        ArgumentNullException.ThrowIfNull(entity);
        return _table.InsertIfAbsentAsync(id, entity, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One statement: <c>INSERT ... SELECT FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (id) DO NOTHING
    /// RETURNING id</c>.</remarks>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// inserted.</exception>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        return _table.InsertManyIfAbsentAsync(entities, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        ArgumentNullException.ThrowIfNull(entity);
        return _table.UpsertAsync(id, entity, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One statement (<c>INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE</c>): one round trip.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing is
    /// written.</exception>
    public ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        foreach (KeyValuePair<string, TNew> entity in entities)
        {
            PostgreSqlEntityIds.Validate(entity.Key);
            ArgumentNullException.ThrowIfNull(entity.Value);
        }

        return entities.Count == 0 ? default : _table.UpsertManyAsync(entities, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        return _table.TombstoneAsync(id, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <para>One round trip on a connection the lock keeps until it is released, that tries every lock with
    /// <c>pg_try_advisory_xact_lock</c>, then reads the ids under them in a statement of its own, whose snapshot
    /// follows the locks. When one is held elsewhere, a second round trip waits: <c>BEGIN ISOLATION LEVEL READ
    /// COMMITTED</c>, <c>SET LOCAL lock_timeout</c> and <c>statement_timeout</c> to the time left,
    /// <c>pg_advisory_xact_lock</c> on the key of every id, then the reads. <see cref="TimeSpan.Zero"/> tries once;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits without limit. The timeout bounds the whole wait, however many of
    /// the ids other transactions hold.</para>
    /// <para>The lock's <see cref="INewStoreLock{TNew}.InsertManyIfAbsentAndReleaseAsync"/> inserts and commits in one
    /// round trip; disposing it unreleased rolls back. A lock lost with its connection makes that insert fail, with
    /// nothing written. The lock learns of a loss at its release: <see cref="INewStoreLock{TNew}.HandleLostToken"/> is
    /// cancelled when the release's <c>ROLLBACK</c> fails (or the connection is already broken), never while the locks
    /// are held.</para>
    /// <para>The key of an id is <c>hashtextextended('lazymigrate:' || table || ':' || id, 0)</c>, with the quoted,
    /// schema-qualified table (<see cref="TableName"/>). It never equals a key of <see
    /// cref="PostgreSqlAdvisoryLockProvider"/>,
    /// which names the migration: the two kinds of lock do not exclude each other.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not <see
    /// cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// locked.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload does not deserialize; nothing stays
    /// locked.</exception>
    /// <exception cref="InvalidOperationException">The data source multiplexes, which cannot hold a transaction open
    /// across calls.</exception>
    public async ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        string[] idArray = ValidateLockArguments(ids, timeout);
        return await PostgreSqlNewStoreLock<TNew, NoOldTable>
            .TryAcquireAsync(_table, _lockStatements, idArray, timeout, readAlong: null, _writes, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <para>As <see cref="TryLockAsync(IReadOnlyList{string}, TimeSpan, CancellationToken)"/>. When <paramref
    /// name="oldStore"/> is a <see cref="PostgreSqlOldStore{TOld}"/> or a <see cref="PostgreSqlTableOldStore{TOld}"/>
    /// on the same database (the same data source, or one with the same connection string), the lock's round trip also
    /// reads its table under the locks, in the statement that re-reads this one, for the ids this table holds neither
    /// as a value nor as a tombstone, and the lock implements <see cref="IOldStoreReadAlong{TOld}"/>: a locked
    /// migration then costs the round trips of an unlocked one. A legacy table is joined on its key as the key's own
    /// type; an id that is not one of its keys in canonical form reads nothing of it. Any other old store is read by
    /// the migration as usual.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not <see
    /// cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// locked.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload of either table does not deserialize, or a legacy
    /// table's column does not read as its property; nothing stays locked.</exception>
    /// <exception cref="InvalidOperationException">The data source multiplexes, which cannot hold a transaction open
    /// across calls.</exception>
    public async ValueTask<INewStoreLock<TNew>?> TryLockAndReadOldAsync<TOld>(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        IOldStore<TOld> oldStore,
        CancellationToken cancellationToken = default
    )
        where TOld : class
    {
        ArgumentNullException.ThrowIfNull(oldStore);
        OldTableReadAlong<TOld>? readAlong = ReadAlongOf(oldStore);
        if (readAlong is null)
        {
            return await TryLockAsync(ids, timeout, cancellationToken).ConfigureAwait(false);
        }

        string[] idArray = ValidateLockArguments(ids, timeout);
        return await PostgreSqlNewStoreLock<TNew, TOld>
            .TryAcquireAsync(_table, readAlong.Statements, idArray, timeout, readAlong, _writes, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Gets the advisory-lock key string of an id (hashed by <c>hashtextextended(key, 0)</c>), for tests and operators.
    /// </summary>
    internal string LockKey(string id) => _table.Sql.LockKeyPrefix + id;

    private string[] ValidateLockArguments(IReadOnlyList<string> ids, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            throw new ArgumentException("At least one id is needed.", nameof(ids));
        }

        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout),
                timeout,
                "The timeout must not be negative (Timeout.InfiniteTimeSpan waits without limit)."
            );
        }

        PostgreSqlEntityIds.ValidateAll(ids);
        if (_multiplexing)
        {
            throw new InvalidOperationException(
                "Migration locks in the new store hold a transaction open on a connection of their own: "
                    + "use a data source without Multiplexing."
            );
        }

        return ids as string[] ?? [.. ids];
    }

    /// <summary>
    /// The read-along of an old store, made once and kept while the store stays the same (it does, in a migration).
    /// </summary>
    private OldTableReadAlong<TOld>? ReadAlongOf<TOld>(IOldStore<TOld> oldStore)
        where TOld : class
    {
        if (_readAlong is ReadAlongChoice<TOld> known && ReferenceEquals(known.OldStore, oldStore))
        {
            return known.ReadAlong;
        }

        var choice = new ReadAlongChoice<TOld>(oldStore, OldTableReadAlong<TOld>.For(oldStore, _table));
        _readAlong = choice;
        return choice.ReadAlong;
    }

    /// <summary>Whether an old store can be read along, as decided for it.</summary>
    private sealed record ReadAlongChoice<TOld>(IOldStore<TOld> OldStore, OldTableReadAlong<TOld>? ReadAlong)
        where TOld : class;
}
