namespace LazyMigrate.Internal;

/// <summary>
/// The one deadline of a lock wait, set when a migration starts to lock: every acquire of its ids, and every retry of
/// an acquire after a transient failure, waits only for what is left of <see cref="LazyMigrationOptions.LockTimeout"/>,
/// so the whole wait never exceeds it.
/// </summary>
internal sealed class LockDeadline
{
    private readonly TimeProvider _timeProvider;
    private readonly long _started;

    private LockDeadline(TimeProvider timeProvider, TimeSpan timeout)
    {
        _timeProvider = timeProvider;
        _started = timeProvider.GetTimestamp();
        Timeout = timeout;
    }

    /// <summary>Gets the whole wait allowed.</summary>
    public TimeSpan Timeout { get; }

    public static LockDeadline Start(TimeProvider timeProvider, TimeSpan timeout) => new(timeProvider, timeout);

    /// <summary>Starts counting the attempts of one acquire against this deadline.</summary>
    public Attempts StartAcquire() => new(this);

    /// <summary>
    /// Gets what is left of the wait: <see cref="TimeSpan.Zero"/> once spent, infinite for an infinite timeout.
    /// </summary>
    private TimeSpan Remaining()
    {
        if (Timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return Timeout;
        }

        TimeSpan left = Timeout - _timeProvider.GetElapsedTime(_started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>The attempts of one acquire, each of which asks how long it may wait.</summary>
    internal sealed class Attempts(LockDeadline deadline)
    {
        private bool _started;

        /// <summary>
        /// Gets how long the next attempt may wait, or <see langword="null"/> when it must not be made: the first
        /// attempt always tries (a spent deadline tries once without waiting), a retry only while some of the wait is
        /// left.
        /// </summary>
        public TimeSpan? Next()
        {
            TimeSpan left = deadline.Remaining();
            bool retry = _started;
            _started = true;
            return retry && left == TimeSpan.Zero ? null : left;
        }
    }
}
