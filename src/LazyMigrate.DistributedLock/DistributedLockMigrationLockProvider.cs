using Medallion.Threading;

namespace LazyMigrate.DistributedLock;

/// <summary>
/// An <see cref="IMigrationLockProvider"/> over any DistributedLock <see cref="IDistributedLockProvider"/>
/// (DistributedLock.Postgres, DistributedLock.Redis, DistributedLock.SqlServer, ...).
/// </summary>
/// <remarks>
/// Keys pass through unchanged as lock names: <c>CreateLock(key)</c>. Each DistributedLock provider maps any name to
/// what its backend accepts: Postgres hashes long names to a 64-bit advisory lock key, SQL Server and MySQL hash names
/// that are too long, Redis uses the name as the Redis key. Two keys that hash alike only share a lock, which costs
/// contention, never correctness.
/// </remarks>
public sealed class DistributedLockMigrationLockProvider : IMigrationLockProvider
{
    private readonly IDistributedLockProvider _provider;

    /// <summary>Initializes a new instance of the <see cref="DistributedLockMigrationLockProvider"/> class.</summary>
    /// <param name="provider">The DistributedLock provider that creates the locks.</param>
    public DistributedLockMigrationLockProvider(IDistributedLockProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _provider = provider;
    }

    /// <inheritdoc/>
    public async ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(key);

        // Providers differ in when they look at the token; a caller that already gave up never takes a lock.
        cancellationToken.ThrowIfCancellationRequested();
        IDistributedSynchronizationHandle? handle = await _provider
            .CreateLock(key)
            .TryAcquireAsync(timeout, cancellationToken)
            .ConfigureAwait(false);
        return handle is null ? null : new DistributedLockMigrationLockHandle(handle);
    }
}
