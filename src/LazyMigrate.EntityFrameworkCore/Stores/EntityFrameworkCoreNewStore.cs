using System.Linq.Expressions;
using System.Runtime.ExceptionServices;
using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// A new store over an entity set of a user's <see cref="DbContext"/>, for any EF Core provider, with its claims and
/// tombstones in the <see cref="LazyMigrateEntry"/> table of the same context.
/// </summary>
/// <typeparam name="TContext">The context type, created through <see cref="IDbContextFactory{TContext}"/> for every
/// call.</typeparam> <typeparam name="TEntity">The entity type of the new store.</typeparam> <typeparam name="TKey">The
/// CLR type of the entity's primary key.</typeparam>
/// <remarks>
/// <para>
/// How insert-if-absent holds under concurrency, at the provider's default isolation level: every id the store has
/// ever held owns one entry row, whose primary key is (entity type name, id). Every write of an id takes that row
/// first, in the transaction that writes the entity: insert-if-absent <em>inserts</em> it (live), a save or a delete
/// <em>updates</em> it (live or deleted), or inserts it when it is not there yet. The database therefore orders the
/// writes of one id: an insert of the row fails on its primary key when any other write got there first, even one not
/// yet committed (the insert waits for it), and an update holds the row's lock until it commits. Insert-if-absent
/// inserts only when its entry insert succeeds, so it never overwrites a value and never inserts over a tombstone,
/// whichever concurrent save or delete it races. No read-then-write decides anything.
/// </para>
/// <para>
/// A failed insert is recognised without provider-specific error codes: EF Core reports every constraint
/// violation as a <see cref="DbUpdateException"/>, and the store then reads the ids again. An id now held lost a race
/// (not inserted; or, for a save or delete, tried again); if no id is held the failure was something else and is
/// rethrown. Transient failures (a <c>DbException</c> whose <c>IsTransient</c> is true, such as a serialization
/// failure or a deadlock, or a timeout) surface as <see cref="TransientStoreException"/> for the core's pipeline to
/// retry.
/// </para>
/// </remarks>
public sealed class EntityFrameworkCoreNewStore<TContext, TEntity, TKey> : INewStore<TEntity>
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    private readonly EntityTable<TContext, TEntity, TKey> _table;
    private readonly Entries _entries;
    private readonly ILogger _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreNewStore{TContext, TEntity, TKey}"/> class.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="set">Selects the entity set, for example <c>(CustomerDb db) =&gt; db.Customers</c>.</param>
    /// <param name="key">Selects the primary key property, for example <c>customer =&gt; customer.Id</c>, or
    /// <c>customer =&gt; EF.Property&lt;string&gt;(customer, "Id")</c> for a shadow key; it must not be
    /// generated.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The context's model does not fit (see
    /// <c>docs/entity-framework-core.md</c>).</exception>
    public EntityFrameworkCoreNewStore(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        Expression<Func<TEntity, TKey>> key,
        EntityFrameworkCoreStoreOptions<TKey>? options = null,
        ILogger? logger = null
    )
        : this(contextFactory, set, () => EntityKey<TEntity, TKey>.NameOf(key), options, logger) { }

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreNewStore{TContext, TEntity, TKey}"/> class
    /// keyed by the primary key of the model, a single property of type <typeparamref name="TKey"/>: a shadow key
    /// (<c>e.Property&lt;string&gt;("Id"); e.HasKey("Id");</c>) leaves the entity free of an id member.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="set">Selects the entity set, for example <c>(CustomerDb db) =&gt; db.Customers</c>.</param>
    /// <exception cref="InvalidOperationException">The context's model does not fit: a composite key, a key of
    /// another type, a generated key, no entries table (see <c>docs/entity-framework-core.md</c>).</exception>
    public EntityFrameworkCoreNewStore(IDbContextFactory<TContext> contextFactory, Func<TContext, DbSet<TEntity>> set)
        : this(contextFactory, set, () => null, options: null, logger: null) { }

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreNewStore{TContext, TEntity, TKey}"/> class
    /// keyed by the primary key of the model, a single property of type <typeparamref name="TKey"/>: a shadow key
    /// (<c>e.Property&lt;string&gt;("Id"); e.HasKey("Id");</c>) leaves the entity free of an id member.
    /// </summary>
    /// <param name="contextFactory">Creates a short-lived context for every call.</param>
    /// <param name="set">Selects the entity set, for example <c>(CustomerDb db) =&gt; db.Customers</c>.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The context's model does not fit: a composite key, a key of
    /// another type, a generated key, no entries table (see <c>docs/entity-framework-core.md</c>).</exception>
    public EntityFrameworkCoreNewStore(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        EntityFrameworkCoreStoreOptions<TKey>? options,
        ILogger? logger
    )
        : this(contextFactory, set, () => null, options, logger) { }

    /// <summary>The store keyed by <paramref name="keyProperty"/>, or by the model's primary key when it is
    /// <see langword="null"/>; for the builder extensions.</summary>
    internal static EntityFrameworkCoreNewStore<TContext, TEntity, TKey> Create(
        IDbContextFactory<TContext> contextFactory,
        Func<TContext, DbSet<TEntity>> set,
        string? keyProperty,
        EntityFrameworkCoreStoreOptions<TKey>? options,
        ILogger? logger
    ) => new(contextFactory, set, () => keyProperty, options, logger);

    private EntityFrameworkCoreNewStore(
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
            needsEntries: true
        );
        _entries = new Entries(_table.EntityTypeName);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the factory of the store's contexts.</summary>
    internal IDbContextFactory<TContext> Contexts => _table.Contexts;

    /// <inheritdoc/>
    public async ValueTask<NewStoreRead<TEntity>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        TKey key = ToKey(id);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                // The hot path: one query. Only a miss reads the entry, then the entity again if the entry says live
                // (it was written between the two reads): entries are never removed, so the answer is exact.
                TEntity? found = await _table.FindAsync(context, key, cancellationToken).ConfigureAwait(false);
                if (found is not null)
                {
                    return NewStoreRead<TEntity>.Found(found);
                }

                LazyMigrateEntry? entry = await _entries
                    .Of(context, id)
                    .FirstOrDefaultAsync(cancellationToken)
                    .ConfigureAwait(false);
                if (entry is null)
                {
                    return NewStoreRead<TEntity>.Missing;
                }

                found = entry.IsDeleted
                    ? null
                    : await _table.FindAsync(context, key, cancellationToken).ConfigureAwait(false);
                return found is null ? NewStoreRead<TEntity>.Deleted : NewStoreRead<TEntity>.Found(found);
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "find", exception);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyDictionary<string, NewStoreRead<TEntity>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        TKey[] keys = ToKeys(ids);
        try
        {
            TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using (context.ConfigureAwait(false))
            {
                var reads = new Dictionary<string, NewStoreRead<TEntity>>(ids.Count, StringComparer.Ordinal);
                foreach (
                    var (id, entity) in await _table
                        .FindManyAsync(context, keys, cancellationToken)
                        .ConfigureAwait(false)
                )
                {
                    reads[id] = NewStoreRead<TEntity>.Found(entity);
                }

                string[] missing = ids.Where(id => !reads.ContainsKey(id)).ToArray();
                Dictionary<string, bool> entries = await _entries
                    .DeletedByIdAsync(context, missing, cancellationToken)
                    .ConfigureAwait(false);
                var writtenSince = new List<TKey>();
                foreach (var (id, deleted) in entries)
                {
                    reads[id] = NewStoreRead<TEntity>.Deleted;
                    if (!deleted)
                    {
                        writtenSince.Add(_table.Ids.ToKey(id));
                    }
                }

                foreach (
                    var (id, entity) in await _table
                        .FindManyAsync(context, writtenSince, cancellationToken)
                        .ConfigureAwait(false)
                )
                {
                    reads[id] = NewStoreRead<TEntity>.Found(entity);
                }

                return reads;
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "find-many", exception);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<bool> InsertIfAbsentAsync(
        string id,
        TEntity entity,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entity);
        IReadOnlyCollection<string> inserted = await InsertManyIfAbsentAsync([new(id, entity)], cancellationToken)
            .ConfigureAwait(false);
        return inserted.Count == 1;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TEntity>> entities,
        CancellationToken cancellationToken = default
    ) => InsertManyIfAbsentAsync(entities, intents: null, cancellationToken);

    /// <summary>
    /// Inserts by insert-if-absent and, with <paramref name="intents"/>, records the intent of each id inserted in the
    /// <c>SaveChanges</c> that inserts the entities (an outbox new store's write).
    /// </summary>
    internal async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TEntity>> entities,
        IReadOnlyDictionary<string, OutboxIntent>? intents,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        var pending = new SortedDictionary<string, (TKey Key, TEntity Entity)>(StringComparer.Ordinal);
        foreach (var (id, entity) in entities)
        {
            ArgumentNullException.ThrowIfNull(entity);
            if (!pending.TryAdd(id, (ToKey(id), entity)))
            {
                throw new ArgumentException($"Entity id '{id}' appears twice.", nameof(entities));
            }
        }

        try
        {
            // A batch first leaves out the ids already held, so that one held id does not fail the whole insert.
            if (pending.Count > 1)
            {
                RemoveAll(pending, await HeldAsync(pending, cancellationToken).ConfigureAwait(false));
            }

            while (pending.Count > 0)
            {
                try
                {
                    await _table
                        .InTransactionAsync(
                            (Store: this, Pending: pending, Intents: intents),
                            static (context, s, ct) => s.Store.InsertAsync(context, s.Pending, s.Intents, ct),
                            cancellationToken
                        )
                        .ConfigureAwait(false);
                    return pending.Keys.ToArray();
                }
                catch (DbUpdateException exception) when (!StoreFailures.IsTransient(exception))
                {
                    // Which ids lost a race to a concurrent write? Those held now. None: not a race, a real failure.
                    List<string> held = await HeldAsync(pending, cancellationToken).ConfigureAwait(false);
                    if (held.Count == 0)
                    {
                        throw;
                    }

                    Log.InsertRaced(_logger, _table.EntityTypeName, held.Count, pending.Count, held[0]);
                    RemoveAll(pending, held);
                }
            }

            return [];
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, "insert-if-absent", exception);
        }
    }

    /// <inheritdoc/>
    public ValueTask UpsertAsync(string id, TEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        TKey key = ToKey(id);
        return new ValueTask(
            WriteAsync("upsert", id, (Key: key, Entity: entity, Deleted: false), null, cancellationToken).AsTask()
        );
    }

    /// <inheritdoc/>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        TKey key = ToKey(id);
        return new ValueTask(
            WriteAsync("delete", id, (Key: key, Entity: (TEntity?)null, Deleted: true), null, cancellationToken)
                .AsTask()
        );
    }

    /// <summary>
    /// Upserts (<paramref name="entity"/>) or deletes (<see langword="null"/>) and records <paramref name="intent"/> in
    /// the same transaction, the item in the <c>SaveChanges</c> that writes the entity (an outbox new store's write).
    /// </summary>
    /// <returns>The item's version.</returns>
    internal ValueTask<long> WriteAndRecordAsync(
        string id,
        TEntity? entity,
        OutboxIntent intent,
        CancellationToken cancellationToken
    )
    {
        TKey key = ToKey(id);
        return entity is null
            ? WriteAsync("delete", id, (key, null, true), intent, cancellationToken)
            : WriteAsync("upsert", id, (key, entity, false), intent, cancellationToken);
    }

    private async Task InsertAsync(
        TContext context,
        SortedDictionary<string, (TKey Key, TEntity Entity)> pending,
        IReadOnlyDictionary<string, OutboxIntent>? intents,
        CancellationToken cancellationToken
    )
    {
        // The entries first, in id order: their primary key decides every race, and taking the rows of one id in the
        // same order as saves and deletes do (entry, then entity) means no two writes ever wait for each other in a
        // cycle.
        _entries.Add(context, pending.Keys, deleted: false);
        await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        context.ChangeTracker.Clear();
        foreach (var (key, entity) in pending.Values)
        {
            _table.Track(context, key, entity, EntityState.Added);
        }

        // The intents of exactly the ids this transaction inserts (a raced id leaves the batch and the transaction is
        // tried again without it), saved with the entities.
        if (intents is not null)
        {
            List<OutboxIntent> recorded = [];
            foreach (string id in pending.Keys)
            {
                if (intents.TryGetValue(id, out OutboxIntent? intent))
                {
                    recorded.Add(intent);
                }
            }

            await OutboxRecords.StageManyAsync(context, recorded, cancellationToken).ConfigureAwait(false);
        }

        await context.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A save or a delete: take the id's entry row (live or deleted), then record the intent if any, then write or
    /// remove the entity, in one transaction; a new outbox item is inserted by the <c>SaveChanges</c> that writes the
    /// entity. Returns the item's version (0 without an intent).
    /// </summary>
    private async ValueTask<long> WriteAsync(
        string operation,
        string id,
        (TKey Key, TEntity? Entity, bool Deleted) write,
        OutboxIntent? intent,
        CancellationToken cancellationToken
    )
    {
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    return await _table
                        .InTransactionAsync(
                            (Store: this, Id: id, Write: write, Intent: intent),
                            static async (context, s, ct) =>
                            {
                                await s
                                    .Store._entries.TakeAsync(context, s.Id, s.Write.Deleted, ct)
                                    .ConfigureAwait(false);
                                long version = s.Intent is null
                                    ? 0
                                    : await OutboxRecords.StageAsync(context, s.Intent, ct).ConfigureAwait(false);
                                if (s.Write.Entity is { } entity)
                                {
                                    await s
                                        .Store._table.WriteAsync(context, s.Write.Key, entity, ct)
                                        .ConfigureAwait(false);
                                }
                                else
                                {
                                    await s
                                        .Store._table.Query(context)
                                        .Where(s.Store._table.Key.EqualTo(s.Write.Key))
                                        .ExecuteDeleteAsync(ct)
                                        .ConfigureAwait(false);
                                    if (context.ChangeTracker.HasChanges())
                                    {
                                        await context.SaveChangesAsync(ct).ConfigureAwait(false);
                                    }
                                }

                                return version;
                            },
                            cancellationToken
                        )
                        .ConfigureAwait(false);
                }
                catch (EntryRaceException race)
                {
                    // Another write inserted the entry between our update (no row yet) and our insert: try again, the
                    // update will find it. If the entry is not there, the insert failed for another reason.
                    bool held = (await HeldAsync([id], cancellationToken).ConfigureAwait(false)).Count > 0;
                    if (!held)
                    {
                        ExceptionDispatchInfo.Throw(race.Failure);
                    }

                    Log.EntryRaced(_logger, _table.EntityTypeName, operation, id, attempt, _table.MaxWriteAttempts);
                    if (attempt >= _table.MaxWriteAttempts)
                    {
                        throw new TransientStoreException(
                            $"Entity Framework Core store of {_table.EntityTypeName}: {operation} of entity '{id}' "
                                + $"lost the race for its entry row {attempt} times "
                                + "to concurrent writes of the same id.",
                            race.Failure
                        );
                    }
                }
            }
        }
        catch (Exception exception) when (StoreFailures.IsTransient(exception))
        {
            throw StoreFailures.Transient(_table.EntityTypeName, operation, exception);
        }
    }

    /// <summary>
    /// The ids among <paramref name="ids"/> that the store holds now: an entry row (live or tombstone) or an entity.
    /// </summary>
    private Task<List<string>> HeldAsync(
        SortedDictionary<string, (TKey Key, TEntity Entity)> ids,
        CancellationToken cancellationToken
    ) => HeldAsync(ids.Keys, cancellationToken);

    private async Task<List<string>> HeldAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        TContext context = await _table.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (context.ConfigureAwait(false))
        {
            var held = new SortedSet<string>(StringComparer.Ordinal);
            held.UnionWith(
                (await _entries.DeletedByIdAsync(context, ids, cancellationToken).ConfigureAwait(false)).Keys
            );
            held.UnionWith(
                await _table.FindIdsAsync(context, _table.ToKeys(ids), cancellationToken).ConfigureAwait(false)
            );
            return [.. held];
        }
    }

    private static void RemoveAll(SortedDictionary<string, (TKey Key, TEntity Entity)> pending, List<string> ids)
    {
        foreach (string id in ids)
        {
            pending.Remove(id);
        }
    }

    private TKey ToKey(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length > LazyMigrateEntry.MaxEntityIdLength)
        {
            throw new InvalidEntityIdException(
                id,
                $"it is {id.Length} characters long; "
                    + $"a new store keeps ids of at most {LazyMigrateEntry.MaxEntityIdLength}"
            );
        }

        return _table.Ids.ToKey(id);
    }

    private TKey[] ToKeys(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (string id in ids)
        {
            ToKey(id);
        }

        return _table.ToKeys(ids);
    }
}
