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
/// <para>A handle reports a lost lock (<see cref="IMigrationLockHandle.HandleLostToken"/>) only when the provider was
/// made with <c>watchForLoss: true</c>; otherwise its token is <see cref="CancellationToken.None"/> ("cannot tell")
/// and the provider's own token is never read. Reading it is what starts some providers' watch:
/// DistributedLock.Postgres then parks a monitoring query on the lock's connection, and under concurrent locking and
/// releasing such a watched lock was seen left held after its release, so that the next caller waited its whole
/// timeout. Redis watches through the lease renewal it runs anyway, so <c>watchForLoss: true</c> costs it nothing
/// more.</para>
/// </remarks>
public sealed class DistributedLockMigrationLockProvider : IMigrationLockProvider
{
    private readonly IDistributedLockProvider _provider;
    private readonly bool _watchForLoss;

    /// <summary>Initializes a new instance of the <see cref="DistributedLockMigrationLockProvider"/> class.</summary>
    /// <param name="provider">The DistributedLock provider that creates the locks.</param>
    /// <param name="watchForLoss">Whether handles pass the provider's <c>HandleLostToken</c> on, so that a Sync
    /// write-back whose lock was lost repairs the old store (docs/write-back.md, "A lost lock"); false by default,
    /// which suits DistributedLock.Postgres (see the remarks).</param>
    public DistributedLockMigrationLockProvider(IDistributedLockProvider provider, bool watchForLoss = false)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _provider = provider;
        _watchForLoss = watchForLoss;
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
        return handle is null ? null : new DistributedLockMigrationLockHandle(handle, _watchForLoss);
    }
}
