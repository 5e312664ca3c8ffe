using System.Data.Common;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using LazyMigrate.Backfill;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>An old store over an entity set of a user's <see cref="DbContext"/>, for any EF Core provider.</summary>
/// <typeparam name="TContext">The context type, created through <see cref="IDbContextFactory{TContext}"/> for every
/// call.</typeparam> <typeparam name="TEntity">The entity type of the old store.</typeparam> <typeparam name="TKey">The
/// CLR type of the entity's primary key.</typeparam>
/// <remarks>
/// <see cref="ScanAsync"/> pages through the table by key (<c>WHERE key &gt; @cursor ORDER BY key</c>, a fresh context
/// per page), so it follows the database's order of the key. For <see cref="string"/> keys that order must be ordinal,
/// as <see cref="IOldStore{TOld}.ScanAsync"/> promises: give the key column a binary collation (SQLite's default
/// <c>BINARY</c>, PostgreSQL <c>"C"</c>, SQL Server <c>Latin1_General_BIN2</c>); the scan throws
/// <see cref="InvalidOperationException"/> the moment the database returns two ids out of ordinal order. Other key
/// types scan in key order (numbers numerically, so <c>"9"</c> before <c>"10"</c>), and a scan resumed from the last id
/// it returned still sees every later entity exactly once.
/// </remarks>
public sealed class EntityFrameworkCoreOldStore<TContext, TEntity, TKey>
    : IOldStore<TEntity>,
        IBatchWritingOldStore<TEntity>,
        IOldStoreCounter<TEntity>
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    private readonly EntityTable<TContext, TEntity, TKey> _table;
    private readonly KeySequence<TContext, TEntity, TKey> _sequence;
    private readonly ILogger _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreOldStore{TContext, TEntity, TKey}"/> class.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="set">Selects the entity set, for example <c>(LegacyDb db) =&gt; db.Customers</c>.</param>
    /// <param name="key">Selects the primary key property, for example <c>customer =&gt; customer.Id</c>, or
    /// <c>customer =&gt; EF.Property&lt;int&gt;(customer, "Id")</c> for a shadow key; it must not be generated.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The context's model does not fit (see
    /// <c>docs/entity-framework-core.md</c>).</exception>
    public EntityFrameworkCoreOldStore(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        Expression<Func<TEntity, TKey>> key,
        EntityFrameworkCoreStoreOptions<TKey>? options = null,
        ILogger? logger = null
    )
        : this(contextFactory, set, () => EntityKey<TEntity, TKey>.NameOf(key), options, logger) { }

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreOldStore{TContext, TEntity, TKey}"/> class
    /// keyed by the primary key of the model, a single property of type <typeparamref name="TKey"/>, shadow or not.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="set">Selects the entity set, for example <c>(LegacyDb db) =&gt; db.Customers</c>.</param>
    /// <exception cref="InvalidOperationException">The context's model does not fit: a composite key, a key of
    /// another type, a generated key (see <c>docs/entity-framework-core.md</c>).</exception>
    public EntityFrameworkCoreOldStore(IDbContextFactory<TContext> contextFactory, Func<TContext, DbSet<TEntity>> set)
        : this(contextFactory, set, () => null, options: null, logger: null) { }

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreOldStore{TContext, TEntity, TKey}"/> class
    /// keyed by the primary key of the model, a single property of type <typeparamref name="TKey"/>, shadow or not.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="set">Selects the entity set, for example <c>(LegacyDb db) =&gt; db.Customers</c>.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The context's model does not fit: a composite key, a key of
    /// another type, a generated key (see <c>docs/entity-framework-core.md</c>).</exception>
    public EntityFrameworkCoreOldStore(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        EntityFrameworkCoreStoreOptions<TKey>? options,
        ILogger? logger
    )
        : this(contextFactory, set, () => null, options, logger) { }

    /// <summary>The store keyed by <paramref name="keyProperty"/>, or by the model's primary key when it is
    /// <see langword="null"/>; for the builder extensions.</summary>
    internal static EntityFrameworkCoreOldStore<TContext, TEntity, TKey> Create(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        string? keyProperty,
        EntityFrameworkCoreStoreOptions<TKey>? options,
        ILogger? logger
    ) => new(contextFactory, set, () => keyProperty, options, logger);

    private EntityFrameworkCoreOldStore(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        Func<string?> keyProperty,
        EntityFrameworkCoreStoreOptions<TKey>? options,
        ILogger? logger
    )
    {
        _table = new EntityTable<TContext, TEntity, TKey>(
            contextFactory,
            set,
            keyProperty,
            options,
            needsEntries: false
        );
        _sequence = new KeySequence<TContext, TEntity, TKey>(set, _table.Key.PropertyName);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <inheritdoc/>
    /// <exception cref="CorruptRowException">The row does not read as the entity type.</exception>
    public async ValueTask<TEntity?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        TKey key = _table.Ids.ToKey(id);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                return await _table.FindAsync(context, key, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "find", exception);
        }
        catch (Exception exception) when (IsRowFailure(exception, cancellationToken))
        {
            throw new CorruptRowException(id, _table.EntityTypeName, exception);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="CorruptRowException">A row does not read as the entity type: the whole call fails, naming
    /// the first such id (one query reads the batch).</exception>
    public async ValueTask<IReadOnlyDictionary<string, TEntity>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        TKey[] keys = _table.ToKeys(ids);
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                return await _table.FindManyAsync(context, keys, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "find-many", exception);
        }
        catch (Exception exception) when (IsRowFailure(exception, cancellationToken))
        {
            // One row that does not read fails the batch's query: name it, reading the ids one by one.
            foreach (string id in ids)
            {
                await FindAsync(id, cancellationToken).ConfigureAwait(false);
            }

            throw; // every row read alone: the batch failed for another reason
        }
    }

    /// <inheritdoc/>
    /// <exception cref="CorruptRowException">A row of the table does not read as the entity type: the scan yielded
    /// every row before it, and a scan after its id goes on past it.</exception>
    public async IAsyncEnumerable<KeyValuePair<string, TEntity>> ScanAsync(
        string? afterId,
        [EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        bool hasCursor = afterId is not null;
        TKey cursor = hasCursor ? _table.Ids.ToKey(afterId!) : default!;
        string? lastId = afterId;
        while (true)
        {
            var (page, corrupt) = await ReadScanPageAsync(hasCursor, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var (key, entity) in page)
            {
                string id = _table.Ids.ToId(key);
                if (typeof(TKey) == typeof(string) && lastId is not null && string.CompareOrdinal(id, lastId) <= 0)
                {
                    throw new InvalidOperationException(
                        $"Entity Framework Core store of {_table.EntityTypeName}: "
                            + $"the database ordered id '{id}' after '{lastId}', which is not ordinal order. "
                            + "Give the key column a binary collation "
                            + "(SQLite BINARY, PostgreSQL \"C\", SQL Server Latin1_General_BIN2) "
                            + "so that a backfill can resume from its cursor."
                    );
                }

                lastId = id;
                cursor = key;
                hasCursor = true;
                yield return new(id, entity);
            }

            if (corrupt is not null)
            {
                throw corrupt;
            }

            if (page.Count < _table.ScanPageSize)
            {
                yield break;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One <c>SELECT COUNT(*) ... WHERE key &gt; @cursor</c>, the condition of <see cref="ScanAsync"/>'s pages, so it
    /// counts what a scan from the same cursor would return (as of the count).
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">The cursor does not convert to a key, or is not its canonical
    /// form.</exception>
    public async ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default)
    {
        bool hasCursor = afterId is not null;
        TKey cursor = hasCursor ? _table.Ids.ToKey(afterId!) : default!;
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                return await RowsAfter(context, hasCursor, cursor)
                    .LongCountAsync(cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "count", exception);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The row is loaded (tracked) and given the entity's values, so the update sets only the columns whose values
    /// changed: columns the model does not map and the model's shadow properties keep theirs. A missing row is
    /// inserted; on PostgreSQL (Npgsql) an integer key's sequence is then moved past the key in the same transaction,
    /// so that the legacy application's own inserts do not collide with it.
    /// </remarks>
    public async ValueTask UpsertAsync(string id, TEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        TKey key = _table.Ids.ToKey(id);
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await _table
                        .InTransactionAsync(
                            (Store: this, Key: key, Entity: entity),
                            static (context, s, ct) => s.Store.WriteBackAsync(context, s.Key, s.Entity, ct),
                            cancellationToken
                        )
                        .ConfigureAwait(false);
                    return;
                }
                catch (DbUpdateException exception)
                    when (attempt < _table.MaxWriteAttempts && !StoreFailures.IsTransient(exception))
                {
                    // An update that found no row (deleted since we loaded it) or an insert that found one (inserted
                    // since we looked): a concurrent write of the id. Anything else is rethrown.
                    bool raced =
                        exception is DbUpdateConcurrencyException
                        || await ExistsAsync(key, cancellationToken).ConfigureAwait(false);
                    if (!raced)
                    {
                        throw;
                    }

                    Log.EntryRaced(_logger, _table.EntityTypeName, "upsert", id, attempt, _table.MaxWriteAttempts);
                }
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "upsert", exception);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One context and one transaction: one query loads (tracked) the rows of the batch that exist, each is given its
    /// entity's values as <see cref="UpsertAsync"/> does (so only changed mapped columns are updated), the missing
    /// ones are inserted, and one <c>SaveChanges</c> writes them all; on PostgreSQL (Npgsql) an integer key's sequence
    /// is then moved past the largest key inserted. A batch that fails (a row inserted or deleted since the query,
    /// say) is not retried here: the dispatcher writes each of its entities through <see cref="UpsertAsync"/>.
    /// </remarks>
    /// <exception cref="InvalidEntityIdException">An id does not convert to a key, or is not its canonical
    /// form.</exception>
    public async ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TEntity>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        TKey[] keys = _table.ToKeys([.. entities.Select(e => e.Key)]);
        foreach (var (_, entity) in entities)
        {
            ArgumentNullException.ThrowIfNull(entity, nameof(entities));
        }

        if (keys.Length == 0)
        {
            return;
        }

        try
        {
            await _table
                .InTransactionAsync(
                    (Store: this, Keys: keys, Entities: entities),
                    static (context, s, ct) => s.Store.WriteBackManyAsync(context, s.Keys, s.Entities, ct),
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "upsert-many", exception);
        }
    }

    /// <inheritdoc/>
    /// <remarks>One statement, <c>DELETE ... WHERE key IN (keys)</c> (<c>ExecuteDelete</c>).</remarks>
    /// <exception cref="InvalidEntityIdException">An id does not convert to a key, or is not its canonical
    /// form.</exception>
    public async ValueTask DeleteManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        TKey[] keys = _table.ToKeys(ids);
        if (keys.Length > 0)
        {
            await DeleteWhereAsync(_table.Key.In(keys), "delete-many", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id does not convert to a key, or is not its canonical
    /// form.</exception>
    public void ValidateId(string id) => _ = _table.Ids.ToKey(id);

    /// <inheritdoc/>
    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        TKey key = _table.Ids.ToKey(id);
        await DeleteWhereAsync(_table.Key.EqualTo(key), "delete", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One <c>ExecuteDelete</c> of the rows <paramref name="where"/> selects, on a fresh context.</summary>
    private async Task DeleteWhereAsync(
        Expression<Func<TEntity, bool>> where,
        string operation,
        CancellationToken cancellationToken
    )
    {
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                await _table.Query(context).Where(where).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, operation, exception);
        }
    }

    /// <summary>
    /// Reads the scan's next page; where one row of it does not read, the rows before it and that row's
    /// <see cref="CorruptRowException"/>.
    /// </summary>
    private async Task<(List<Keyed<TEntity, TKey>> Rows, CorruptRowException? Corrupt)> ReadScanPageAsync(
        bool hasCursor,
        TKey cursor,
        CancellationToken cancellationToken
    )
    {
        try
        {
            return (
                await ReadPageAsync(hasCursor, cursor, _table.Key.WithKey, cancellationToken).ConfigureAwait(false),
                null
            );
        }
        catch (Exception exception) when (IsRowFailure(exception, cancellationToken))
        {
            return await LocateCorruptRowAsync(hasCursor, cursor, exception, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One row Entity Framework Core cannot materialize fails its whole page's query. This reads the page's keys alone,
    /// then its rows one by one, so that the scan still yields every row before the bad one and names it; a page whose
    /// rows all read alone failed for another reason, which is thrown as it was.
    /// </summary>
    private async Task<(List<Keyed<TEntity, TKey>> Rows, CorruptRowException? Corrupt)> LocateCorruptRowAsync(
        bool hasCursor,
        TKey cursor,
        Exception pageFailure,
        CancellationToken cancellationToken
    )
    {
        List<TKey> keys = await ReadPageAsync(hasCursor, cursor, _table.Key.Selector, cancellationToken)
            .ConfigureAwait(false);

        // FindAsync names a row that does not read; a row deleted since the page's query is skipped.
        var rows = new List<Keyed<TEntity, TKey>>(keys.Count);
        foreach (TKey key in keys)
        {
            try
            {
                if (await FindAsync(_table.Ids.ToId(key), cancellationToken).ConfigureAwait(false) is { } entity)
                {
                    rows.Add(new Keyed<TEntity, TKey> { Key = key, Entity = entity });
                }
            }
            catch (CorruptRowException corrupt)
            {
                return (rows, corrupt);
            }
        }

        // Every row read alone (or the bad one went away meanwhile): the page failed for another reason.
        ExceptionDispatchInfo.Throw(pageFailure);
        return default; // not reached
    }

    /// <summary>
    /// The rows after the cursor: the one condition of the scan's pages, the count, and the search for a corrupt row.
    /// </summary>
    private IQueryable<TEntity> RowsAfter(TContext context, bool hasCursor, TKey cursor) =>
        hasCursor ? _table.Query(context).Where(_table.Key.After(cursor)) : _table.Query(context);

    /// <summary>
    /// Whether a read failed on a row's values (a value its property cannot hold, a <c>NULL</c> in a required
    /// column), which EF Core reports as a plain .NET exception. A failure of the database itself (a missing column, a
    /// permission, a timeout: a <see cref="DbException"/>) or of the call (cancellation, a transient failure) is not
    /// the row's, and must never quarantine it.
    /// </summary>
    private static bool IsRowFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is not (LazyMigrationException or OperationCanceledException or DbException)
        && !cancellationToken.IsCancellationRequested
        && !StoreFailures.IsTransient(exception);

    /// <summary>One page of the rows after the cursor, in key order, as <paramref name="select"/> projects them (the
    /// rows with their keys, or the keys alone).</summary>
    private async Task<List<TResult>> ReadPageAsync<TResult>(
        bool hasCursor,
        TKey cursor,
        Expression<Func<TEntity, TResult>> select,
        CancellationToken cancellationToken
    )
    {
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                return await RowsAfter(context, hasCursor, cursor)
                    .OrderBy(_table.Key.Selector)
                    .Take(_table.ScanPageSize)
                    .Select(select)
                    .ToListAsync(cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "scan", exception);
        }
    }

    /// <summary>
    /// The write-back of one entity in the caller's transaction: the row's changed columns, or a new row whose key the
    /// table's sequence then stays past.
    /// </summary>
    private async Task WriteBackAsync(TContext context, TKey key, TEntity entity, CancellationToken cancellationToken)
    {
        if (await _table.WriteBackAsync(context, key, entity, cancellationToken).ConfigureAwait(false))
        {
            await _sequence.AdvancePastAsync(context, key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The write-back of a batch in the caller's transaction, as <see cref="WriteBackAsync"/> of
    /// each.</summary>
    private async Task WriteBackManyAsync(
        TContext context,
        TKey[] keys,
        IReadOnlyList<KeyValuePair<string, TEntity>> entities,
        CancellationToken cancellationToken
    )
    {
        Dictionary<TKey, TEntity> rows = await _table
            .TrackRowsAsync(context, keys, cancellationToken)
            .ConfigureAwait(false);
        var inserted = new List<TKey>();
        for (int i = 0; i < keys.Length; i++)
        {
            TEntity? row = rows.GetValueOrDefault(keys[i]);
            _table.WriteBackOnto(context, keys[i], entities[i].Value, row);
            if (row is null)
            {
                inserted.Add(keys[i]);
            }
        }

        await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await _sequence.AdvancePastAllAsync(context, inserted, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> ExistsAsync(TKey key, CancellationToken cancellationToken)
    {
        TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (context.ConfigureAwait(false))
        {
            return await _table
                .Query(context)
                .AnyAsync(_table.Key.EqualTo(key), cancellationToken)
                .ConfigureAwait(false);
        }
    }
}
