namespace LazyMigrate.Outbox;

/// <summary>
/// Records that entities changed in the old store through the old API, so that the dispatcher brings the new store up
/// to date (forward sync, <see cref="LazyMigrationOptions.ForwardSync"/>). Legacy code that writes the old store
/// directly calls it after its write; on PostgreSQL a trigger on the legacy table records the change instead, and an
/// EF Core interceptor does it for a legacy <c>DbContext</c>.
/// </summary>
/// <remarks>
/// Recording is cheap and idempotent: the items are state-based and coalesce per entity, so recording an id that did
/// not change, or twice, costs a read of both stores and nothing else. An id the new store lacks needs nothing and is
/// completed at once. Resolve it from the container (keyed by the migration's name when it has several).
/// </remarks>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface IOldStoreChangeRecorder<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Gets the name of the migration the changes are recorded for.</summary>
    string MigrationName { get; }

    /// <summary>Records that one entity changed (was written or deleted) in the old store.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes once the change is durable in the outbox.</returns>
    /// <exception cref="InvalidOperationException">The migration has forward sync off.</exception>
    /// <exception cref="InvalidEntityIdException">The old store cannot key an entity on the id.</exception>
    ValueTask RecordChangeAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a legacy write of one entity under the entity's migration lock and records the change before the lock is
    /// released, so that no write-back of the entity is applied between the write and its record. Use it where the
    /// legacy code can wrap its write: a write-back applied just as an unwrapped legacy write commits can still copy
    /// the older new-API state over it, since the dispatcher checks for a later forward sync under the lock.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <param name="write">
    /// The legacy write (an insert, update or delete of the entity's old-store record), returning whether it changed
    /// the record: a delete that found no row returns <see langword="false"/>, and nothing is recorded.
    /// </param>
    /// <param name="cancellationToken">The cancellation token, passed to <paramref name="write"/>.</param>
    /// <returns>What <paramref name="write"/> returned, once its change (if any) is durable in the outbox.</returns>
    /// <remarks>
    /// <para>
    /// A write that changed nothing must not be recorded: a forward sync recorded after a pending write-back wins over
    /// it, and would copy the old store's state (say, a row the write-back has not yet inserted: none) over the newer
    /// new-API write. A write that throws may have committed (its reply lost) or not: it is recorded unless a
    /// write-back of the entity is pending, which then wins, as the caller was told the legacy write failed. The
    /// exception then propagates.
    /// </para>
    /// <para>
    /// <paramref name="write"/> runs under the entity's lock: keep it short, and do not call the repository for the
    /// same entity from it (that waits for the lock, up to <see cref="LazyMigrationOptions.LockTimeout"/>). Its token
    /// is also cancelled when the lock reports itself lost.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="write"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="id"/> is <see langword="null"/> or empty.</exception>
    /// <exception cref="InvalidOperationException">The migration has forward sync off.</exception>
    /// <exception cref="InvalidEntityIdException">The old store cannot key an entity on the id.</exception>
    /// <exception cref="MigrationLockTimeoutException">The lock was not acquired within the lock timeout; the write
    /// did not run.</exception>
    /// <exception cref="AggregateException">The write threw and recording its change failed too: both errors.
    /// </exception>
    ValueTask<bool> RecordWriteAsync(
        string id,
        Func<CancellationToken, ValueTask<bool>> write,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records that entities changed in the old store.</summary>
    /// <param name="ids">The entity ids.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A task that completes once every change is durable in the outbox.</returns>
    /// <exception cref="InvalidOperationException">The migration has forward sync off.</exception>
    /// <exception cref="InvalidEntityIdException">The old store cannot key an entity on one of the ids; none is
    /// recorded.</exception>
    ValueTask RecordChangesAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default);
}
