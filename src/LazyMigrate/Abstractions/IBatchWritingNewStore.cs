namespace LazyMigrate;

/// <summary>
/// A new store that writes many entities in one call. The dispatcher's forward syncs (<see
/// cref="LazyMigrationOptions.ForwardSync"/>) write a batch's merged entities through it, one call for the batch
/// instead of one per entity; a store without it gets one <see cref="INewStore{TNew}.UpsertAsync"/> per entity.
/// </summary>
/// <typeparam name="TNew">The entity type.</typeparam>
public interface IBatchWritingNewStore<TNew> : INewStore<TNew>
    where TNew : class
{
    /// <summary>
    /// Writes each entity as <see cref="INewStore{TNew}.UpsertAsync"/> would (over a value, a tombstone or nothing,
    /// clearing a stale mark), all or none: a call that fails wrote none of them, and the caller writes each alone.
    /// </summary>
    /// <param name="entities">The entities, of distinct ids.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes once every entity is written.</returns>
    /// <exception cref="InvalidEntityIdException">The store cannot key an entity on one of the ids.</exception>
    ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    );
}
