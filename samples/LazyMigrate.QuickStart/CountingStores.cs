using LazyMigrate.Backfill;

namespace LazyMigrate.QuickStart;

/// <summary>
/// Counts the calls the repository makes to the old store, so the quick start can show them. It counts the old store's
/// entities as the store it wraps does (both old stores of the quick start are counters), which gives the backfill's
/// progress its total and its time left.
/// </summary>
/// <remarks>
/// Over a store that cannot count, <see cref="CountAfterAsync"/> throws, and the backfill goes on without a total (it
/// logs event 43): a wrapper for such stores should not claim <see cref="IOldStoreCounter{TOld}"/> at all.
/// </remarks>
public sealed class CountingOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>, IOldStoreCounter<TOld>
    where TOld : class
{
    private int _reads;
    private int _writes;

    /// <summary>Gets the number of <see cref="FindAsync"/> and <see cref="FindManyAsync"/> calls so far.</summary>
    public int ReadCount => Volatile.Read(ref _reads);

    /// <summary>
    /// Gets the number of <see cref="UpsertAsync"/> and <see cref="DeleteAsync"/> calls so far: the write-backs.
    /// </summary>
    public int WriteCount => Volatile.Read(ref _writes);

    public ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return inner.FindAsync(id, cancellationToken);
    }

    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _reads);
        return inner.FindManyAsync(ids, cancellationToken);
    }

    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    ) => inner.ScanAsync(afterId, cancellationToken);

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        return inner.DeleteAsync(id, cancellationToken);
    }

    public void ValidateId(string id) => inner.ValidateId(id);

    public ValueTask<long> CountAfterAsync(string? afterId, CancellationToken cancellationToken = default) =>
        inner is IOldStoreCounter<TOld> counter
            ? counter.CountAfterAsync(afterId, cancellationToken)
            : throw new NotSupportedException($"{inner.GetType().Name} does not count its entities.");
}

/// <summary>
/// Counts the new store's inserts, saves and deletes, so that the quick start can say which path moved what.
/// </summary>
public sealed class CountingNewStore<TNew>(INewStore<TNew> inner) : INewStore<TNew>
    where TNew : class
{
    private int _inserts;
    private int _upserts;
    private int _deletes;

    /// <summary>
    /// Gets the number of entities inserted by insert-if-absent so far: the migrations, saves excluded.
    /// </summary>
    public int InsertCount => Volatile.Read(ref _inserts);

    /// <summary>Gets the number of <see cref="UpsertAsync"/> calls so far: the saves through the new API.</summary>
    public int UpsertCount => Volatile.Read(ref _upserts);

    /// <summary>Gets the number of <see cref="DeleteAsync"/> calls so far: the deletes through the new API.</summary>
    public int DeleteCount => Volatile.Read(ref _deletes);

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default) =>
        inner.FindAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => inner.FindManyAsync(ids, cancellationToken);

    public async ValueTask<bool> InsertIfAbsentAsync(
        string id,
        TNew entity,
        CancellationToken cancellationToken = default
    )
    {
        bool inserted = await inner.InsertIfAbsentAsync(id, entity, cancellationToken);
        if (inserted)
        {
            Interlocked.Increment(ref _inserts);
        }

        return inserted;
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAsync(entities, cancellationToken);
        Interlocked.Add(ref _inserts, inserted.Count);
        return inserted;
    }

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _upserts);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _deletes);
        return inner.DeleteAsync(id, cancellationToken);
    }
}
