namespace LazyMigrate;

/// <summary>
/// Hands out locks by key so that one instance at a time migrates a given entity. Shaped like the
/// DistributedLock library's <c>IDistributedLockProvider</c>; see the LazyMigrate.DistributedLock package.
/// </summary>
public interface IMigrationLockProvider
{
    /// <summary>Tries to acquire the lock for a key, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="key">The lock key.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>A handle that releases the lock when disposed, or <see langword="null"/> when the wait timed
    /// out.</returns>
    ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    );
}
