using Medallion.Threading;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// Records what the adapter passes to a DistributedLock provider, for the pass-through checks that a real server cannot
/// show (the exact name, timeout and token). The real servers prove the locking itself.
/// </summary>
internal sealed class RecordingLockProvider(bool grant = true) : IDistributedLockProvider
{
    public List<(string Name, TimeSpan? Timeout, CancellationToken Token)> Calls { get; } = [];

    public List<RecordedHandle> Handles { get; } = [];

    public bool Grants => grant;

    public IDistributedLock CreateLock(string name) => new Lock(this, name);

    internal sealed class RecordedHandle : IDistributedSynchronizationHandle
    {
        public CancellationTokenSource Lost { get; } = new();

        public int Disposals { get; private set; }

        /// <summary>
        /// Gets or sets whether releasing fails, as DistributedLock.Postgres does on a connection that died.
        /// </summary>
        public bool FailsToRelease { get; set; }

        /// <summary>Gets how often <see cref="HandleLostToken"/> was read (reading starts some providers' watch).
        /// </summary>
        public int LostTokenReads { get; private set; }

        public CancellationToken HandleLostToken
        {
            get
            {
                LostTokenReads++;
                return Lost.Token;
            }
        }

        public void Dispose() => Disposals++;

        public ValueTask DisposeAsync()
        {
            Disposals++;
            return FailsToRelease
                ? ValueTask.FromException(new InvalidOperationException("Connection is not open"))
                : default;
        }
    }

    private sealed class Lock(RecordingLockProvider owner, string name) : IDistributedLock
    {
        public string Name => name;

        public IDistributedSynchronizationHandle? TryAcquire(
            TimeSpan timeout = default,
            CancellationToken cancellationToken = default
        ) => throw new InvalidOperationException("The adapter must use the async API.");

        public IDistributedSynchronizationHandle Acquire(
            TimeSpan? timeout = null,
            CancellationToken cancellationToken = default
        ) => throw new InvalidOperationException("The adapter must use the async API.");

        public ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(
            TimeSpan timeout = default,
            CancellationToken cancellationToken = default
        )
        {
            owner.Calls.Add((name, timeout, cancellationToken));
            if (!owner.Grants)
            {
                return ValueTask.FromResult<IDistributedSynchronizationHandle?>(null);
            }

            var handle = new RecordedHandle();
            owner.Handles.Add(handle);
            return ValueTask.FromResult<IDistributedSynchronizationHandle?>(handle);
        }

        public ValueTask<IDistributedSynchronizationHandle> AcquireAsync(
            TimeSpan? timeout = null,
            CancellationToken cancellationToken = default
        ) =>
            throw new InvalidOperationException(
                "The adapter must use TryAcquireAsync: a timeout is an answer, not an error."
            );
    }
}
