namespace LazyMigrate;

/// <summary>
/// Migration locks held by a <see cref="ILockingNewStore{TNew}"/>; disposing releases them if still held.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public interface INewStoreLock<TNew> : IAsyncDisposable
    where TNew : class
{
    /// <summary>
    /// Gets what the store held for the locked ids when they were locked: found entities and tombstones; missing ids
    /// are left out.
    /// </summary>
    IReadOnlyDictionary<string, NewStoreRead<TNew>> Current { get; }

    /// <summary>
    /// Gets a token cancelled when the locks are known to be lost, or <see cref="CancellationToken.None"/> when the
    /// store cannot tell. A store may learn of a loss only when it releases the locks (the PostgreSQL new store's
    /// <c>ROLLBACK</c> on dispose fails on a lost session): the token read before then is cancelled by that release, so
    /// a caller that wants to know checks it after disposing.
    /// </summary>
    CancellationToken HandleLostToken { get; }

    /// <summary>
    /// Inserts each entity unless its id holds a value or a tombstone, and releases the locks, in one call. The locks
    /// are released whether the call succeeds or not.
    /// </summary>
    /// <param name="entities">Entities by distinct, locked id.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The ids this call inserted.</returns>
    ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    );
}
