namespace LazyMigrate.Outbox;

/// <summary>
/// A new store that writes outbox intents atomically with its own changes: in the same transaction (and, on
/// PostgreSQL, the same round trip) as the upsert, the tombstone or the migration's insert. Where the new store is not
/// one, the migration records each intent in its <see cref="IMigrationOutbox"/> before the change.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IOutboxNewStore<TNew> : INewStore<TNew>
    where TNew : class
{
    /// <summary>Gets the outbox the store writes into, which dispatchers claim from.</summary>
    IMigrationOutbox Outbox { get; }

    /// <summary>
    /// Upserts an entity (<see cref="INewStore{TNew}.UpsertAsync"/>) and records an intent, atomically.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity to store.</param>
    /// <param name="intent">The intent to record, as <see cref="IMigrationOutbox.RecordAsync"/> would.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The outbox item's version after the write.</returns>
    ValueTask<long> UpsertAndRecordAsync(
        string id,
        TNew entity,
        OutboxIntent intent,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Tombstones an entity (<see cref="INewStore{TNew}.DeleteAsync"/>) and records an intent, atomically.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <param name="intent">The intent to record.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The outbox item's version after the write.</returns>
    ValueTask<long> DeleteAndRecordAsync(string id, OutboxIntent intent, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts entities by insert-if-absent (<see cref="INewStore{TNew}.InsertManyIfAbsentAsync"/>) and records the
    /// intent of exactly the ids it inserted, atomically.
    /// </summary>
    /// <param name="entities">Entities by distinct id.</param>
    /// <param name="intents">The intent of each entity, by id, recorded only if the entity is inserted.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The ids this call inserted.</returns>
    ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndRecordAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent> intents,
        CancellationToken cancellationToken = default
    );
}
