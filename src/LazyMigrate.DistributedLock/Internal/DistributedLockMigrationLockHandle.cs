using Medallion.Threading;

namespace LazyMigrate.DistributedLock.Internal;

/// <summary>A held DistributedLock lock seen as an <see cref="IMigrationLockHandle"/>.</summary>
internal sealed class DistributedLockMigrationLockHandle(IDistributedSynchronizationHandle handle, bool watchForLoss)
    : IMigrationLockHandle
{
    private CancellationToken _lostToken;
    private volatile bool _lostTokenRead;

    /// <summary>
    /// Gets the provider's own token when the provider watches for loss, asked for once and only when the caller asks:
    /// some providers (Postgres among them) start watching the connection the first time it is read, and that watch is
    /// not free. Otherwise <see cref="CancellationToken.None"/>, and the provider's token is never read.
    /// </summary>
    public CancellationToken HandleLostToken
    {
        get
        {
            if (!watchForLoss)
            {
                return CancellationToken.None;
            }

            if (!_lostTokenRead)
            {
                // Two racing readers both store the provider's one token; the flag is set after it, so no reader sees a
                // default.
                _lostToken = handle.HandleLostToken;
                _lostTokenRead = true;
            }

            return _lostToken;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await handle.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception) when (_lostTokenRead && _lostToken.IsCancellationRequested)
        {
            // The lock is known to be gone already (its connection died, its key expired), so there is nothing left to
            // release, and a provider that fails to release it on a dead connection is not an error. A failure to
            // release a lock not known to be lost still propagates: that lock may be held until it expires.
        }
    }
}
