namespace LazyMigrate;

/// <summary>
/// A lock provider that can also take the locks of many keys at once, all or none, in one session of its backend
/// (one connection, say) rather than one per key. A migration of a batch of ids uses it when the provider implements
/// it, and locks id by id otherwise.
/// </summary>
public interface IMigrationBatchLockProvider : IMigrationLockProvider
{
    /// <summary>
    /// Tries to acquire the locks of all <paramref name="keys"/>, waiting at most <paramref name="timeout"/> in total.
    /// The keys are taken in ordinal order, so two callers locking overlapping sets never deadlock each other; when not
    /// all can be had in time, none is held on return.
    /// </summary>
    /// <param name="keys">Distinct, non-empty lock keys; at least one.</param>
    /// <param name="timeout">
    /// How long to wait; <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits without
    /// limit.
    /// </param>
    /// <param name="cancellationToken">The cancellation token; a cancelled wait holds none of the keys.</param>
    /// <returns>One handle that releases every lock when disposed, or <see langword="null"/> when the wait timed
    /// out.</returns>
    ValueTask<IMigrationLockHandle?> TryAcquireManyAsync(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    );
}
