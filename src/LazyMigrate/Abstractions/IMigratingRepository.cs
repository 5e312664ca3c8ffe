namespace LazyMigrate;

/// <summary>
/// Reads and writes entities of the new model while they move, one by one, out of the old store.
/// A read that misses the new store migrates the entity from the old store on demand.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IMigratingRepository<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Gets an entity, migrating it from the old store when the new store does not have it yet.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">Cancels this caller's wait; a migration shared with other callers goes
    /// on.</param>
    /// <returns>The entity, or <see langword="null"/> when it is deleted or exists in neither store.</returns>
    /// <exception cref="MigrationMappingException">The mapper failed for this entity; nothing was written.</exception>
    /// <exception cref="MigrationLockTimeoutException">The entity's lock was not acquired within the lock
    /// timeout.</exception>
    /// <exception cref="MigrationStoreException">A store failed after its resilience pipeline gave up.</exception>
    ValueTask<TNew?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets several entities with one batched call per store, migrating those the new store does not have yet.
    /// </summary>
    /// <param name="ids">The entity ids; duplicates are read once.</param>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <returns>The entities found, by id; deleted and absent ids are left out.</returns>
    /// <exception cref="MigrationBatchException{TNew}">
    /// Some or all ids failed; the others were read (<see cref="MigrationBatchException{TNew}.Found"/>). Every failure
    /// is reported this way, a whole-batch one too (a lock timeout, a store outage): <see
    /// cref="Exception.InnerException"/> and <see cref="MigrationBatchException.Failures"/> hold the cause (a mapping,
    /// lock timeout or store error). </exception>
    ValueTask<IReadOnlyDictionary<string, TNew>> GetManyAsync(
        IEnumerable<string> ids,
        CancellationToken cancellationToken = default
    );

    /// <summary>Saves an entity to the new store and, when write-back is on, to the old store.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity to save.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <exception cref="MigrationMappingException">The reverse mapper failed; nothing was written.</exception>
    /// <exception cref="MigrationLockTimeoutException">With write-back on, the entity's lock was not acquired in time;
    /// nothing was written.</exception>
    /// <exception cref="MigrationStoreException">A store failed after its resilience pipeline gave up.</exception>
    ValueTask SaveAsync(string id, TNew entity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes an entity: the new store keeps a tombstone so that no migration brings it back,
    /// and, when write-back is on, the old store record is deleted.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Migrates one entity now if it still needs it, without returning it.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <returns>What the call found or did.</returns>
    ValueTask<MigrationOutcome> MigrateAsync(string id, CancellationToken cancellationToken = default);
}
