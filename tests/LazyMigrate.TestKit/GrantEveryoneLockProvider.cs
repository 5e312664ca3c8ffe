namespace LazyMigrate.TestKit;

/// <summary>
/// A broken lock that grants every caller at once and excludes no one: the invariant suites run it to show that their
/// checks of what a lock buys (one mapper call per id across instances) fail without a working lock.
/// </summary>
public sealed class GrantEveryoneLockProvider : IMigrationBatchLockProvider
{
    private int _grants;

    /// <summary>Gets the number of locks granted, batches counting once.</summary>
    public int Grants => Volatile.Read(ref _grants);

    public ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => Grant();

    public ValueTask<IMigrationLockHandle?> TryAcquireManyAsync(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => Grant();

    private ValueTask<IMigrationLockHandle?> Grant()
    {
        Interlocked.Increment(ref _grants);
        return ValueTask.FromResult<IMigrationLockHandle?>(new Nothing());
    }

    private sealed class Nothing : IMigrationLockHandle
    {
        public CancellationToken HandleLostToken => CancellationToken.None;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
