using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using LazyMigrate.Backfill;

namespace LazyMigrate.InMemory;

/// <summary>A thread-safe old store in memory, for unit tests: easy to seed, easy to inspect.</summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
public sealed class InMemoryOldStore<TOld> : IOldStore<TOld>, IOldStoreCounter<TOld>
    where TOld : class
{
    private readonly ConcurrentDictionary<string, TOld> _entities = new(StringComparer.Ordinal);
    private int _readCount;
    private int _writeCount;

    /// <summary>Initializes a new instance of the <see cref="InMemoryOldStore{TOld}"/> class.</summary>
    /// <param name="seed">Entities to start with, by id.</param>
    public InMemoryOldStore(IEnumerable<KeyValuePair<string, TOld>>? seed = null)
    {
        foreach (var (id, entity) in seed ?? [])
        {
            Seed(id, entity);
        }
    }

    /// <summary>Gets the number of entities held.</summary>
    public int Count => _entities.Count;

    /// <summary>Gets the number of <see cref="FindAsync"/> and <see cref="FindManyAsync"/> calls so far.</summary>
    public int ReadCount => Volatile.Read(ref _readCount);

    /// <summary>
    /// Gets the number of <see cref="UpsertAsync"/> and <see cref="DeleteAsync"/> calls so far (write-backs).
    /// </summary>
    public int WriteCount => Volatile.Read(ref _writeCount);

    /// <summary>Adds or replaces an entity without counting it as a write.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity.</param>
    /// <returns>This store, to chain seeds.</returns>
    public InMemoryOldStore<TOld> Seed(string id, TOld entity)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(entity);
        _entities[id] = entity;
        return this;
    }

    /// <summary>Gets the entity held for an id, without counting a read.</summary>
    /// <param name="id">The entity id.</param>
    /// <returns>The entity, or <see langword="null"/>.</returns>
    public TOld? Peek(string id) => _entities.TryGetValue(id, out TOld? entity) ? entity : null;

    /// <summary>Copies the current content.</summary>
    /// <returns>The entities by id.</returns>
    public IReadOnlyDictionary<string, TOld> Snapshot() =>
        new Dictionary<string, TOld>(_entities, StringComparer.Ordinal);

    /// <inheritdoc/>
    public ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _readCount);
        return new(Peek(id));
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _readCount);
        var found = new Dictionary<string, TOld>(ids.Count, StringComparer.Ordinal);
        foreach (string id in ids)
        {
            if (_entities.TryGetValue(id, out TOld? entity))
            {
                found[id] = entity;
            }
        }

        return new(found);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        [EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        // A snapshot of the ids, then a fresh read of each: entities deleted during the scan are skipped.
        string[] ids = _entities
            .Keys.Where(id => afterId is null || string.CompareOrdinal(id, afterId) > 0)
            .Order(StringComparer.Ordinal)
            .ToArray();
        foreach (string id in ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_entities.TryGetValue(id, out TOld? entity))
            {
                yield return new(id, entity);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default) =>
        new(afterId is null ? _entities.Count : _entities.Keys.Count(id => string.CompareOrdinal(id, afterId) > 0));

    /// <inheritdoc/>
    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _writeCount);
        Seed(id, entity);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _writeCount);
        _entities.TryRemove(id, out _);
        return default;
    }
}
