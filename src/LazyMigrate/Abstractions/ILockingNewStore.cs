namespace LazyMigrate;

/// <summary>
/// A new store that can take the migration locks of its entities itself, so that a migration locks and re-reads in
/// one round trip and inserts and unlocks in another (for example PostgreSQL transaction-scoped advisory locks).
/// Used instead of an <see cref="IMigrationLockProvider"/> when <see cref="LazyMigrationOptions.LockInNewStore"/> is
/// on, and by default when the migration has no lock provider, of its own or the container's.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface ILockingNewStore<TNew> : INewStore<TNew>
    where TNew : class
{
    /// <summary>Locks the ids (all or none), and reads what the store holds for them under the lock.</summary>
    /// <param name="ids">Distinct entity ids.</param>
    /// <param name="timeout">How long to wait for locks held by others; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The held locks with the reads, or <see langword="null"/> when the wait timed out.</returns>
    ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Locks the ids and re-reads them like <see cref="TryLockAsync(IReadOnlyList{string}, TimeSpan,
    /// CancellationToken)"/> and, where the store can do it in the same call, also reads <paramref name="oldStore"/>
    /// under the lock for the ids it lacks: the lock it returns then implements <see cref="IOldStoreReadAlong{TOld}"/>,
    /// which saves the migration its own old-store read. The default implementation reads nothing more.
    /// </summary>
    /// <typeparam name="TOld">The entity type of the old store.</typeparam>
    /// <param name="ids">Distinct entity ids.</param>
    /// <param name="timeout">How long to wait for locks held by others; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="oldStore">The migration's old store, as registered.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The held locks with the reads, or <see langword="null"/> when the wait timed out.</returns>
    ValueTask<INewStoreLock<TNew>?> TryLockAndReadOldAsync<TOld>(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        IOldStore<TOld> oldStore,
        CancellationToken cancellationToken = default
    )
        where TOld : class => TryLockAsync(ids, timeout, cancellationToken);
}
