using LazyMigrate.Outbox;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>
/// An <see cref="EntityFrameworkCoreNewStore{TContext, TEntity, TKey}"/> that writes outbox intents atomically with its
/// changes, into an <see cref="EntityFrameworkCoreOutbox{TContext}"/> over the same context: each write and its intent
/// are one transaction of one context, a new item inserted by the <c>SaveChanges</c> that writes the entity, so neither
/// commits without the other.
/// </summary>
/// <typeparam name="TContext">The context type; its model maps the entity, the entries and the outbox.</typeparam>
/// <typeparam name="TEntity">The entity type of the new store.</typeparam>
/// <typeparam name="TKey">The CLR type of the entity's primary key.</typeparam>
/// <remarks>
/// Thread-safe. Reads and plain writes are the store's. In a save or a delete the id's entry row is taken first, as
/// always, then the item (an <c>UPDATE</c> that moves a pending item's version on, or a new row), then the entity; a
/// migration's insert records the events of exactly the ids it inserted. See docs/entity-framework-core.md.
/// </remarks>
public sealed class EntityFrameworkCoreOutboxNewStore<TContext, TEntity, TKey> : IOutboxNewStore<TEntity>
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    private readonly EntityFrameworkCoreNewStore<TContext, TEntity, TKey> _store;
    private readonly EntityFrameworkCoreOutbox<TContext> _outbox;

    /// <summary>
    /// Initializes a new instance of the <see cref="EntityFrameworkCoreOutboxNewStore{TContext, TEntity, TKey}"/>
    /// class.
    /// </summary>
    /// <param name="store">The new store, whose context's model maps the outbox table too.</param>
    /// <param name="outbox">The outbox to record into: on the same database as the store.</param>
    /// <exception cref="InvalidOperationException">The store's context does not map the outbox table.</exception>
    /// <exception cref="ArgumentException">The outbox is on another database than the store.</exception>
    public EntityFrameworkCoreOutboxNewStore(
        EntityFrameworkCoreNewStore<TContext, TEntity, TKey> store,
        EntityFrameworkCoreOutbox<TContext> outbox
    )
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(outbox);
        using TContext storeContext = store.Contexts.CreateDbContext();
        if (OutboxTable.Problem(storeContext) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        using TContext outboxContext = outbox.Contexts.CreateDbContext();
        if (
            !string.Equals(
                storeContext.Database.GetConnectionString(),
                outboxContext.Database.GetConnectionString(),
                StringComparison.Ordinal
            )
        )
        {
            throw new ArgumentException(
                $"The outbox {outbox.TableName} is on another database than the store (another connection string): "
                    + "a store writes intents atomically only into an outbox of its own database.",
                nameof(outbox)
            );
        }

        _store = store;
        _outbox = outbox;
    }

    /// <inheritdoc/>
    public IMigrationOutbox Outbox => _outbox;

    /// <inheritdoc/>
    public ValueTask<NewStoreRead<TEntity>> FindAsync(string id, CancellationToken cancellationToken = default) =>
        _store.FindAsync(id, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TEntity>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => _store.FindManyAsync(ids, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<bool> InsertIfAbsentAsync(
        string id,
        TEntity entity,
        CancellationToken cancellationToken = default
    ) => _store.InsertIfAbsentAsync(id, entity, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TEntity>> entities,
        CancellationToken cancellationToken = default
    ) => _store.InsertManyIfAbsentAsync(entities, cancellationToken);

    /// <inheritdoc/>
    public ValueTask UpsertAsync(string id, TEntity entity, CancellationToken cancellationToken = default) =>
        _store.UpsertAsync(id, entity, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        _store.DeleteAsync(id, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The intent names another entity.</exception>
    public ValueTask<long> UpsertAndRecordAsync(
        string id,
        TEntity entity,
        OutboxIntent intent,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entity);
        return _store.WriteAndRecordAsync(id, entity, IntentOf(id, intent), cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The intent names another entity.</exception>
    public ValueTask<long> DeleteAndRecordAsync(
        string id,
        OutboxIntent intent,
        CancellationToken cancellationToken = default
    ) => _store.WriteAndRecordAsync(id, null, IntentOf(id, intent), cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An intent names another entity than its key.</exception>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndRecordAsync(
        IReadOnlyCollection<KeyValuePair<string, TEntity>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(intents);
        foreach (var (id, intent) in intents)
        {
            IntentOf(id, intent);
        }

        return _store.InsertManyIfAbsentAsync(entities, intents, cancellationToken);
    }

    /// <exception cref="ArgumentException">The intent names another entity than the write.</exception>
    private static OutboxIntent IntentOf(string id, OutboxIntent intent)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(intent);
        OutboxRows.Validate(intent.Migration, intent.EntityId);
        return string.Equals(intent.EntityId, id, StringComparison.Ordinal)
            ? intent
            : throw new ArgumentException(
                $"The intent names entity '{intent.EntityId}', not '{id}', the entity written.",
                nameof(intent)
            );
    }
}
