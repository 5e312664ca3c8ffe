namespace LazyMigrate.InMemory;

/// <summary>
/// A lock provider for one process, for unit tests: share one instance between repositories to stand in for a
/// distributed lock, and call <see cref="Expire"/> to simulate a lost lock. A batch's keys are taken one by one in
/// ordinal order (<see cref="TryAcquireManyAsync"/>).
/// </summary>
public sealed class InMemoryMigrationLockProvider : IMigrationBatchLockProvider
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LockEntry> _locks = new(StringComparer.Ordinal);
    private int _acquireCount;

    /// <summary>Gets the number of successful acquisitions so far.</summary>
    public int AcquireCount => Volatile.Read(ref _acquireCount);

    /// <summary>Tells whether a key is held right now.</summary>
    /// <param name="key">The lock key.</param>
    /// <returns><see langword="true"/> when a handle holds the key.</returns>
    public bool IsHeld(string key)
    {
        lock (_gate)
        {
            return _locks.TryGetValue(key, out LockEntry? entry) && entry.Holder is not null;
        }
    }

    /// <summary>
    /// Gets how many callers are waiting for a key right now, so a test can act once a caller is blocked on it.
    /// </summary>
    /// <param name="key">The lock key.</param>
    /// <returns>The number of waiting callers.</returns>
    public int WaiterCount(string key)
    {
        lock (_gate)
        {
            return _locks.TryGetValue(key, out LockEntry? entry)
                ? entry.References - (entry.Holder is null ? 0 : 1)
                : 0;
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IMigrationLockHandle?> TryAcquireAsync(
        string key,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        LockEntry entry;
        lock (_gate)
        {
            if (!_locks.TryGetValue(key, out entry!))
            {
                _locks[key] = entry = new LockEntry();
            }

            entry.References++;
        }

        bool acquired = false;
        try
        {
            acquired = await entry.Semaphore.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (!acquired)
            {
                return null;
            }

            var handle = new Handle(this, key, entry);
            lock (_gate)
            {
                entry.Holder = handle;
            }

            Interlocked.Increment(ref _acquireCount);
            return handle;
        }
        finally
        {
            if (!acquired)
            {
                Dereference(key, entry);
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One key after the other in ordinal order, each waiting for what is left of <paramref name="timeout"/>; whatever
    /// ends the call early (a timeout, a cancellation) releases the keys it took. <see cref="AcquireCount"/> counts
    /// each key.
    /// </remarks>
    public async ValueTask<IMigrationLockHandle?> TryAcquireManyAsync(
        IReadOnlyList<string> keys,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        string[] sorted = SortedKeys(keys);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, System.Threading.Timeout.InfiniteTimeSpan);
        long started = TimeProvider.System.GetTimestamp();
        var held = new List<IMigrationLockHandle>(sorted.Length);
        try
        {
            foreach (string key in sorted)
            {
                IMigrationLockHandle? handle = await TryAcquireAsync(key, Left(timeout, started), cancellationToken)
                    .ConfigureAwait(false);
                if (handle is null)
                {
                    await BatchHandle.ReleaseAllAsync(held).ConfigureAwait(false);
                    return null;
                }

                held.Add(handle);
            }

            return new BatchHandle(held);
        }
        catch
        {
            await BatchHandle.ReleaseAllAsync(held).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Simulates the loss of a held lock (an expiry, a dead connection): the holder's
    /// <see cref="IMigrationLockHandle.HandleLostToken"/> is cancelled and the key is free for another caller.
    /// </summary>
    /// <param name="key">The lock key.</param>
    /// <returns><see langword="true"/> when a held lock was expired.</returns>
    public bool Expire(string key)
    {
        Handle? holder;
        lock (_gate)
        {
            holder = _locks.TryGetValue(key, out LockEntry? entry) ? entry.Holder : null;
        }

        return holder?.Lose() ?? false;
    }

    private static string[] SortedKeys(IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("At least one key is needed.", nameof(keys));
        }

        string[] sorted = [.. keys];
        foreach (string key in sorted)
        {
            ArgumentException.ThrowIfNullOrEmpty(key, nameof(keys));
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    private static TimeSpan Left(TimeSpan timeout, long started)
    {
        if (timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }

        TimeSpan left = timeout - TimeProvider.System.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private void Release(string key, LockEntry entry, Handle handle)
    {
        lock (_gate)
        {
            if (ReferenceEquals(entry.Holder, handle))
            {
                entry.Holder = null;
            }
        }

        entry.Semaphore.Release();
        Dereference(key, entry);
    }

    private void Dereference(string key, LockEntry entry)
    {
        lock (_gate)
        {
            if (--entry.References == 0)
            {
                _locks.Remove(key);
                entry.Semaphore.Dispose();
            }
        }
    }

    private sealed class LockEntry
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int References { get; set; }

        public Handle? Holder { get; set; }
    }

    private sealed class Handle(InMemoryMigrationLockProvider owner, string key, LockEntry entry) : IMigrationLockHandle
    {
        private readonly CancellationTokenSource _lost = new();
        private int _released;

        public CancellationToken HandleLostToken => _lost.Token;

        public bool Lose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return false;
            }

            // Tell the holder first, then free the key: a new holder must never start before the old one could know.
            _lost.Cancel();
            owner.Release(key, entry, this);
            return true;
        }

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(key, entry, this);
            }

            return default;
        }
    }

    /// <summary>The locks of a batch, released together; lost when any of them is.</summary>
    private sealed class BatchHandle : IMigrationLockHandle
    {
        private readonly List<IMigrationLockHandle> _held;

        public BatchHandle(List<IMigrationLockHandle> held)
        {
            _held = held;

            // Not disposed: it owns no timer, and a holder may still read the token after release.
            HandleLostToken = CancellationTokenSource
                .CreateLinkedTokenSource([.. held.Select(h => h.HandleLostToken)])
                .Token;
        }

        public CancellationToken HandleLostToken { get; }

        public static async ValueTask ReleaseAllAsync(List<IMigrationLockHandle> held)
        {
            foreach (IMigrationLockHandle handle in held)
            {
                await handle.DisposeAsync().ConfigureAwait(false);
            }

            held.Clear();
        }

        public ValueTask DisposeAsync() => ReleaseAllAsync(_held);
    }
}
