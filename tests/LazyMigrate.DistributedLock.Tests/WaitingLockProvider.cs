using System.Collections.Concurrent;
using System.Diagnostics;
using Medallion.Threading;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// Counts, per lock name, the callers that wait, for a backend that cannot show its waiters (DistributedLock.Redis
/// polls in the client), so that a test can act while a caller waits. A caller with a timeout first tries the lock once
/// without waiting; "waiting" means refused once, about to wait: counted from that refusal, before its real wait
/// (the inner lock's own <c>TryAcquireAsync</c>) starts, until that wait returns. A count says only that the caller was
/// refused and has not got the lock yet: the lock may be free again by then. The try's time comes off the caller's
/// timeout (an infinite one stays infinite); a caller whose timeout ran out in the try is refused without being
/// counted.
/// </summary>
public sealed class WaitingLockProvider(IDistributedLockProvider inner, ConcurrentDictionary<string, int> waiting)
    : IDistributedLockProvider
{
    public IDistributedLock CreateLock(string name) => new Lock(inner.CreateLock(name), waiting);

    private sealed class Lock(IDistributedLock inner, ConcurrentDictionary<string, int> waiting) : IDistributedLock
    {
        public string Name => inner.Name;

        public async ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(
            TimeSpan timeout = default,
            CancellationToken cancellationToken = default
        )
        {
            if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            {
                // No wait (or a bad timeout, for the inner lock to refuse).
                return await inner.TryAcquireAsync(timeout, cancellationToken);
            }

            long tryStarted = Stopwatch.GetTimestamp();
            IDistributedSynchronizationHandle? held = await inner.TryAcquireAsync(TimeSpan.Zero, cancellationToken);
            if (held is not null)
            {
                return held;
            }

            TimeSpan remaining = timeout;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                remaining = timeout - Stopwatch.GetElapsedTime(tryStarted);
                if (remaining <= TimeSpan.Zero)
                {
                    return null; // the caller's whole timeout went on the try
                }
            }

            waiting.AddOrUpdate(Name, 1, (_, count) => count + 1);
            try
            {
                return await inner.TryAcquireAsync(remaining, cancellationToken);
            }
            finally
            {
                waiting.AddOrUpdate(Name, 0, (_, count) => count - 1);
            }
        }

        public IDistributedSynchronizationHandle? TryAcquire(
            TimeSpan timeout = default,
            CancellationToken cancellationToken = default
        ) => throw Unused();

        public IDistributedSynchronizationHandle Acquire(
            TimeSpan? timeout = null,
            CancellationToken cancellationToken = default
        ) => throw Unused();

        public ValueTask<IDistributedSynchronizationHandle> AcquireAsync(
            TimeSpan? timeout = null,
            CancellationToken cancellationToken = default
        ) => throw Unused();

        private static NotSupportedException Unused() =>
            new("LazyMigrate takes its locks through TryAcquireAsync only.");
    }
}
