namespace LazyMigrate.Tests.Support;

/// <summary>A new store that runs a test's code right after an insert or an upsert has been written.</summary>
public sealed class HookedNewStore<TNew>(INewStore<TNew> inner) : INewStore<TNew>
    where TNew : class
{
    public Action? AfterInsert { get; set; }

    public Action? AfterUpsert { get; set; }

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default) => inner.FindAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default) => inner.FindManyAsync(ids, cancellationToken);

    public async ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        bool inserted = await inner.InsertIfAbsentAsync(id, entity, cancellationToken);
        AfterInsert?.Invoke();
        return inserted;
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(IReadOnlyCollection<KeyValuePair<string, TNew>> entities, CancellationToken cancellationToken = default)
    {
        IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAsync(entities, cancellationToken);
        AfterInsert?.Invoke();
        return inserted;
    }

    public async ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        await inner.UpsertAsync(id, entity, cancellationToken);
        AfterUpsert?.Invoke();
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
}
