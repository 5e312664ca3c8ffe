namespace LazyMigrate.TestKit;

/// <summary>
/// A batch lock provider that takes each lock, a batch's too, through a <see cref="LockProbe"/>: the test learns for
/// certain that a caller found a lock held, while the batch still goes through the provider's own batch call (its key
/// order), which <see cref="ProbingLockProvider"/> would replace by the repository's lock-one-id-at-a-time path.
/// </summary>
public sealed class ProbingBatchLockProvider(IMigrationBatchLockProvider inner, LockProbe probe)
    : IMigrationBatchLockProvider
{
    /// <summary>
    /// Wraps <paramref name="inner"/> in the probing provider of its kind: a batch provider stays one, so the
    /// repository locks a batch the way it would without the probe.
    /// </summary>
    public static IMigrationLockProvider Over(IMigrationLockProvider inner, LockProbe probe) =>
        inner is IMigrationBatchLockProvider batch
            ? new ProbingBatchLockProvider(batch, probe)
            : new ProbingLockProvider(inner, probe);

    public ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => probe.AcquireAsync(wait => inner.TryAcquireAsync(key, wait, cancellationToken), timeout);

    public ValueTask<IMigrationLockHandle?> TryAcquireManyAsync(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => probe.AcquireAsync(wait => inner.TryAcquireManyAsync(keys, wait, cancellationToken), timeout);
}
