namespace LazyMigrate.InMemory;

/// <summary>
/// A lock provider for one process, for unit tests: share one instance between repositories to stand in for a
/// distributed lock, and call <see cref="Expire"/> to simulate a lost lock.
/// </summary>
public sealed class InMemoryMigrationLockProvider : IMigrationLockProvider
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

    /// <summary>Gets how many callers are waiting for a key right now, so a test can act once a caller is blocked on it.</summary>
    /// <param name="key">The lock key.</param>
    /// <returns>The number of waiting callers.</returns>
    public int WaiterCount(string key)
    {
        lock (_gate)
        {
            return _locks.TryGetValue(key, out LockEntry? entry) ? entry.References - (entry.Holder is null ? 0 : 1) : 0;
        }
    }

    /// <inheritdoc/>
    public async ValueTask<IMigrationLockHandle?> TryAcquireAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default)
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
}
