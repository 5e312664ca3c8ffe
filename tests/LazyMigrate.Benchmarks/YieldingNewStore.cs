using LazyMigrate.InMemory;

namespace LazyMigrate.Benchmarks;

/// <summary>
/// An in-memory new store whose reads answer the way a database driver's do: asynchronously, after giving up the
/// thread (<see cref="Task.Yield"/>), but without a network or a server's noise. Writes go straight to the inner store.
/// </summary>
internal sealed class YieldingNewStore<TNew>(InMemoryNewStore<TNew> inner) : INewStore<TNew>
    where TNew : class
{
    public async ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        return await inner.FindAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        await Task.Yield();
        return await inner.FindManyAsync(ids, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        inner.InsertIfAbsentAsync(id, entity, cancellationToken);

    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    ) => inner.InsertManyIfAbsentAsync(entities, cancellationToken);

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);
}
