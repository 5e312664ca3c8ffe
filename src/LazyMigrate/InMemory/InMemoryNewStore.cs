using System.Collections.Concurrent;

namespace LazyMigrate.InMemory;

/// <summary>
/// A thread-safe new store in memory, with tombstones, for unit tests: easy to seed, easy to inspect. It can also
/// lock its own entities (<see cref="ILockingNewStore{TNew}"/>), for tests of <c>UseNewStoreLock</c>.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
public sealed class InMemoryNewStore<TNew> : ILockingNewStore<TNew>, IBatchWritingNewStore<TNew>
    where TNew : class
{
    private readonly ConcurrentDictionary<string, NewStoreRead<TNew>> _entries = new(StringComparer.Ordinal);
    private readonly InMemoryMigrationLockProvider _locks = new();
    private int _insertCount;

    /// <summary>Gets the number of entities held, tombstones excluded.</summary>
    public int Count => _entries.Count(e => e.Value.State == NewStoreState.Found);

    /// <summary>
    /// Gets the number of successful inserts by insert-if-absent so far (migrations), saves excluded.
    /// </summary>
    public int InsertCount => Volatile.Read(ref _insertCount);

    /// <summary>Adds or replaces an entity, as a save would.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity.</param>
    /// <returns>This store, to chain seeds.</returns>
    public InMemoryNewStore<TNew> Seed(string id, TNew entity)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        _entries[id] = NewStoreRead<TNew>.Found(entity);
        return this;
    }

    /// <summary>Gets what the store holds for an id.</summary>
    /// <param name="id">The entity id.</param>
    /// <returns>The entity, a tombstone or nothing.</returns>
    public NewStoreRead<TNew> Peek(string id) =>
        _entries.TryGetValue(id, out NewStoreRead<TNew> read) ? read : NewStoreRead<TNew>.Missing;

    /// <summary>
    /// Gets how many callers wait for the migration lock of an id right now, so a test can act once one is blocked.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <returns>The number of waiting callers.</returns>
    public int LockWaiterCount(string id) => _locks.WaiterCount(id);

    /// <summary>Tells whether the migration lock of an id is held right now.</summary>
    /// <param name="id">The entity id.</param>
    /// <returns><see langword="true"/> when a lock holds the id.</returns>
    public bool IsLocked(string id) => _locks.IsHeld(id);

    /// <summary>Copies the current content, tombstones included.</summary>
    /// <returns>The entries by id.</returns>
    public IReadOnlyDictionary<string, NewStoreRead<TNew>> Snapshot() =>
        new Dictionary<string, NewStoreRead<TNew>>(_entries, StringComparer.Ordinal);

    /// <inheritdoc/>
    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<NewStoreRead<TNew>>(cancellationToken);
        }

        return new(Peek(id));
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var found = new Dictionary<string, NewStoreRead<TNew>>(ids.Count, StringComparer.Ordinal);
        foreach (string id in ids)
        {
            if (_entries.TryGetValue(id, out NewStoreRead<TNew> read))
            {
                found[id] = read;
            }
        }

        return new(found);
    }

    /// <inheritdoc/>
    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        cancellationToken.ThrowIfCancellationRequested();

        // TryAdd fails on a value and on a tombstone alike: both are entries.
        bool inserted = _entries.TryAdd(id, NewStoreRead<TNew>.Found(entity));
        if (inserted)
        {
            Interlocked.Increment(ref _insertCount);
        }

        return new(inserted);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, entity) in entities)
        {
            if (await InsertIfAbsentAsync(id, entity, cancellationToken).ConfigureAwait(false))
            {
                inserted.Add(id);
            }
        }

        return inserted;
    }

    /// <summary>
    /// Marks an entity (or its tombstone) stale, as a capture trigger does on a legacy write: the next read syncs it
    /// from the old store before returning (<see cref="NewStoreRead{TNew}.IsStale"/>). Any write clears the mark.
    /// </summary>
    /// <param name="id">The entity id.</param>
    /// <returns><see langword="true"/> if the store holds the id.</returns>
    public bool MarkStale(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        while (_entries.TryGetValue(id, out NewStoreRead<TNew> read) && read.State != NewStoreState.Missing)
        {
            if (_entries.TryUpdate(id, read.AsStale(), read))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        cancellationToken.ThrowIfCancellationRequested();
        Seed(id, entity);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entities);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (KeyValuePair<string, TNew> entity in entities)
        {
            ArgumentNullException.ThrowIfNull(entity.Value);
        }

        foreach (KeyValuePair<string, TNew> entity in entities)
        {
            Seed(entity.Key, entity.Value);
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _entries[id] = NewStoreRead<TNew>.Deleted;
        return default;
    }

    /// <inheritdoc/>
    /// <remarks>Whatever ends the call early (a timeout, a cancellation, a failed read) releases every lock it
    /// took.</remarks>
    public async ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(ids);
        IMigrationLockHandle? held = await _locks
            .TryAcquireManyAsync(ids, timeout, cancellationToken)
            .ConfigureAwait(false);
        if (held is null)
        {
            return null;
        }

        try
        {
            return new StoreLock(
                this,
                held,
                await FindManyAsync(ids.ToArray(), cancellationToken).ConfigureAwait(false)
            );
        }
        catch
        {
            await held.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class StoreLock(
        InMemoryNewStore<TNew> store,
        IMigrationLockHandle held,
        IReadOnlyDictionary<string, NewStoreRead<TNew>> current
    ) : INewStoreLock<TNew>
    {
        public IReadOnlyDictionary<string, NewStoreRead<TNew>> Current { get; } = current;

        public CancellationToken HandleLostToken => CancellationToken.None;

        public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(
            IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
            CancellationToken cancellationToken = default
        )
        {
            try
            {
                return await store.InsertManyIfAbsentAsync(entities, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => held.DisposeAsync();
    }
}
