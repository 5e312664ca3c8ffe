namespace LazyMigrate;

/// <summary>
/// A new store that can take the migration locks of its entities itself, so that a migration locks and re-reads in
/// one round trip and inserts and unlocks in another (for example PostgreSQL transaction-scoped advisory locks).
/// Used instead of an <see cref="IMigrationLockProvider"/> when <see cref="LazyMigrationOptions.LockInNewStore"/> is on.
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
    ValueTask<INewStoreLock<TNew>?> TryLockAsync(IReadOnlyList<string> ids, TimeSpan timeout, CancellationToken cancellationToken = default);
}
