namespace LazyMigrate.TestKit;

/// <summary>
/// Takes a lock by trying it once before waiting for it, so that a test knows for certain when a caller found the lock
/// held by someone else (<see cref="Refused"/>), whichever backend it is and whether or not the backend can tell who
/// waits. Used by <see cref="ProbingLockProvider"/> and <see cref="CountingNewStore{TNew}"/>.
/// </summary>
public sealed class LockProbe
{
    private readonly TaskCompletionSource _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes when a try found the lock held: the caller then waits for it.</summary>
    public Task Refused => _refused.Task;

    /// <summary>Tries <paramref name="acquire"/> once; if refused, signals it, then waits up to the timeout.</summary>
    /// <param name="acquire">Takes the lock, waiting at most the time it is given; null when not granted.</param>
    /// <param name="timeout">How long the caller may wait in all.</param>
    public async ValueTask<T?> AcquireAsync<T>(Func<TimeSpan, ValueTask<T?>> acquire, TimeSpan timeout)
        where T : class
    {
        T? held = await acquire(TimeSpan.Zero);
        if (held is not null)
        {
            return held;
        }

        _refused.TrySetResult();
        return timeout == TimeSpan.Zero ? null : await acquire(timeout);
    }
}
