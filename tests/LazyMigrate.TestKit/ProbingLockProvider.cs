namespace LazyMigrate.TestKit;

/// <summary>
/// A lock provider that takes each lock through a <see cref="LockProbe"/>: the test learns for certain that a caller
/// found the lock held. It locks one key at a time (no <see cref="IMigrationBatchLockProvider"/>).
/// </summary>
public sealed class ProbingLockProvider(IMigrationLockProvider inner, LockProbe probe) : IMigrationLockProvider
{
    public ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => probe.AcquireAsync(wait => inner.TryAcquireAsync(key, wait, cancellationToken), timeout);
}
