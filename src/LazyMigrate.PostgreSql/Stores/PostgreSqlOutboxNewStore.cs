using LazyMigrate.Outbox;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// A <see cref="PostgreSqlNewStore{TNew}"/> that writes outbox intents atomically with its changes, into a <see
/// cref="PostgreSqlOutbox"/> in the same database: each write and its intent are one statement, so one round trip and
/// one transaction, and neither commits without the other.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
/// <remarks>
/// <para>Thread-safe. Reads, plain writes and locks are the document store's (see <see
/// cref="PostgreSqlNewStore{TNew}"/>); its locks (<c>UseNewStoreLock</c>) record the intents of the ids their insert
/// inserts in the insert's statement, before their <c>COMMIT</c>. See docs/postgresql.md.</para>
/// </remarks>
public sealed class PostgreSqlOutboxNewStore<TNew>
    : IOutboxNewStore<TNew>,
        ILockingNewStore<TNew>,
        IBatchWritingNewStore<TNew>
    where TNew : class
{
    private readonly PostgreSqlNewStore<TNew> _store;
    private readonly OutboxStoreWrites<TNew> _writes;
    private readonly PostgreSqlOutbox _outbox;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlOutboxNewStore{TNew}"/> class.</summary>
    /// <param name="dataSource">The data source; the store does not dispose it.</param>
    /// <param name="outbox">The outbox to record into: on the same database as <paramref name="dataSource"/> (the
    /// same data source, or one with the same connection string).</param>
    /// <param name="options">The store options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid, or the outbox is on another database.</exception>
    public PostgreSqlOutboxNewStore(
        NpgsqlDataSource dataSource,
        PostgreSqlOutbox outbox,
        PostgreSqlDocumentStoreOptions? options = null,
        ILoggerFactory? loggerFactory = null
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(outbox);
        if (!outbox.SharesDatabaseWith(dataSource))
        {
            throw new ArgumentException(
                $"The outbox {outbox.TableName} is on another database than the store (another connection string): "
                    + "a store writes intents atomically only into an outbox of its own database.",
                nameof(outbox)
            );
        }

        _outbox = outbox;
        _store = new PostgreSqlNewStore<TNew>(dataSource, options, loggerFactory, outbox);
        _writes = _store.Writes!;
    }

    /// <summary>Gets the quoted, schema-qualified table name, for example <c>"public"."customer"</c>.</summary>
    public string TableName => _store.TableName;

    /// <inheritdoc/>
    public IMigrationOutbox Outbox => _outbox;

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">The stored payload does not deserialize.</exception>
    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default) =>
        _store.FindAsync(id, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload does not deserialize.</exception>
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => _store.FindManyAsync(ids, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        _store.InsertIfAbsentAsync(id, entity, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// inserted.</exception>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    ) => _store.InsertManyIfAbsentAsync(entities, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        _store.UpsertAsync(id, entity, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing is
    /// written.</exception>
    public ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    ) => _store.UpsertManyAsync(entities, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        _store.DeleteAsync(id, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>One statement: <c>WITH store AS (INSERT ... ON CONFLICT (id) DO UPDATE ... RETURNING id) INSERT INTO
    /// outbox ... SELECT ... FROM store ON CONFLICT (migration, kind, entity_id) DO UPDATE ... RETURNING
    /// version</c>. The write-back of a migration registered with <c>WriteBackMode.Async</c> is recorded in the row
    /// itself instead (<c>writeback_pending</c>, the outbox's next sequence, which it returns): the outbox's claim
    /// makes the item of it, and its lookups and counts read it as a pending write-back.</remarks>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="ArgumentException">The intent names another entity.</exception>
    public ValueTask<long> UpsertAndRecordAsync(
        string id,
        TNew entity,
        OutboxIntent intent,
        CancellationToken cancellationToken = default
    )
    {
        PostgreSqlEntityIds.Validate(id);
        ArgumentNullException.ThrowIfNull(entity);
        return _writes.UpsertAndRecordAsync(id, entity, intent, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One statement, as <see cref="UpsertAndRecordAsync"/> with the tombstone.</remarks>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="ArgumentException">The intent names another entity.</exception>
    public ValueTask<long> DeleteAndRecordAsync(
        string id,
        OutboxIntent intent,
        CancellationToken cancellationToken = default
    )
    {
        PostgreSqlEntityIds.Validate(id);
        return _writes.TombstoneAndRecordAsync(id, intent, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One statement: <c>WITH inserted AS (INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id), recorded AS
    /// (INSERT INTO outbox ... SELECT ... FROM inserted, unnest(...) WHERE ...) SELECT id FROM inserted</c>.</remarks>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// inserted.</exception>
    /// <exception cref="ArgumentException">An intent names another entity than its key.</exception>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndRecordAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(intents);
        return _writes.InsertManyAndRecordAsync(entities, intents, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>As <see cref="PostgreSqlNewStore{TNew}.TryLockAsync"/>; the lock is also an <see
    /// cref="IOutboxNewStoreLock{TNew}"/> that records into <see cref="Outbox"/>.</remarks>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is empty.</exception>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// locked.</exception>
    public ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => _store.TryLockAsync(ids, timeout, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>As <see cref="PostgreSqlNewStore{TNew}.TryLockAndReadOldAsync"/>; the lock is also an <see
    /// cref="IOutboxNewStoreLock{TNew}"/> that records into <see cref="Outbox"/>.</remarks>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is empty.</exception>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was
    /// locked.</exception>
    public ValueTask<INewStoreLock<TNew>?> TryLockAndReadOldAsync<TOld>(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        IOldStore<TOld> oldStore,
        CancellationToken cancellationToken = default
    )
        where TOld : class => _store.TryLockAndReadOldAsync(ids, timeout, oldStore, cancellationToken);

    /// <summary>
    /// Records the write-back intents of <paramref name="migration"/>, when its writes are
    /// <see cref="WriteBackMode.Async"/>, in the entity's own row (no outbox row written a save), and has the outbox
    /// read them there whenever it claims, finds or counts that migration's items. The registration calls it.
    /// </summary>
    /// <param name="migration">The migration name.</param>
    /// <param name="isAsync">Tells, at each write, whether the migration's writes are <c>Async</c>.</param>
    internal void MarkWriteBacksOf(string migration, Func<bool> isAsync) =>
        _writes.MarkWriteBacksOf(migration, isAsync);

    /// <summary>Gets the advisory-lock key string of an id, for tests and operators.</summary>
    internal string LockKey(string id) => _store.LockKey(id);
}
