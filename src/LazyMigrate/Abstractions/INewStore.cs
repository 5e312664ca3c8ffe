namespace LazyMigrate;

/// <summary>The store the entities are migrating to.</summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
/// <remarks>
/// Implementations are thread-safe and tell a <em>missing</em> entity from a <em>deleted</em> one: a delete leaves a
/// tombstone, and insert-if-absent never overwrites a value and never inserts over a tombstone. Those two rules are
/// what keeps a migration from losing a save or resurrecting a delete, even when a lock is lost.
/// </remarks>
public interface INewStore<TNew>
    where TNew : class
{
    /// <summary>Reads one entity.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The entity, a tombstone or nothing.</returns>
    ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Reads several entities in one call.</summary>
    /// <param name="ids">Distinct entity ids.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>Found entities and tombstones, by id; missing ids are left out.</returns>
    ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    );

    /// <summary>Inserts an entity unless the id already holds a value or a tombstone.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity to insert.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when this call inserted the entity.</returns>
    ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts several entities, each unless its id already holds a value or a tombstone, in one call.
    /// </summary>
    /// <param name="entities">Entities by distinct id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The ids this call inserted.</returns>
    ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    );

    /// <summary>Inserts or replaces an entity, replacing a tombstone too (a save through the new API).</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity to store.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default);

    /// <summary>Replaces the entity, or its absence, with a tombstone.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default);
}
