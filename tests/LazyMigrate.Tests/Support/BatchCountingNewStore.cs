using LazyMigrate.InMemory;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// A batch-writing new store over an in-memory one that counts its calls, and can refuse every batch (as a store that
/// rejects one entity of it would), so that a test sees one call for a batch, or each entity written alone after it.
/// </summary>
public sealed class BatchCountingNewStore<TNew>(InMemoryNewStore<TNew> inner, bool refuseBatches = false)
    : IBatchWritingNewStore<TNew>
    where TNew : class
{
    private int _batches;
    private int _upserts;

    /// <summary>Gets how many batch writes were asked for, refused ones included.</summary>
    public int Batches => _batches;

    /// <summary>Gets how many single upserts were made.</summary>
    public int Upserts => _upserts;

    public ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _batches);
        return refuseBatches
            // Not transient, so not retried: as a store that refuses one entity of the batch.
            ? throw new InvalidOperationException($"the store refused the batch from entity '{entities[0].Key}'")
            : inner.UpsertManyAsync(entities, cancellationToken);
    }

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _upserts);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default) =>
        inner.FindAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => inner.FindManyAsync(ids, cancellationToken);

    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        inner.InsertIfAbsentAsync(id, entity, cancellationToken);

    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    ) => inner.InsertManyIfAbsentAsync(entities, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);
}
