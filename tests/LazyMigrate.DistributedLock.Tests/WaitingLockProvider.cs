using System.Collections.Concurrent;
using Medallion.Threading;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// Counts, per lock name, the callers that wait: a wait first tries the lock once without waiting and, refused, counts
/// as waiting until its real wait returns. For a backend that cannot show its waiters (DistributedLock.Redis polls in
/// the client), so that a test can act while a caller waits.
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

            IDistributedSynchronizationHandle? held = await inner.TryAcquireAsync(TimeSpan.Zero, cancellationToken);
            if (held is not null)
            {
                return held;
            }

            waiting.AddOrUpdate(Name, 1, (_, count) => count + 1);
            try
            {
                return await inner.TryAcquireAsync(timeout, cancellationToken);
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
