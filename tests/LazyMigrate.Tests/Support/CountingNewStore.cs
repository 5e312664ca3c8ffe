namespace LazyMigrate.Tests.Support;

/// <summary>Counts the calls made to a new store, by method.</summary>
public sealed class CountingNewStore<TNew>(INewStore<TNew> inner) : INewStore<TNew>
    where TNew : class
{
    private int _finds;
    private int _findManys;
    private int _insertManys;

    public int FindCalls => Volatile.Read(ref _finds);

    public int FindManyCalls => Volatile.Read(ref _findManys);

    public int InsertManyCalls => Volatile.Read(ref _insertManys);

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _finds);
        return inner.FindAsync(id, cancellationToken);
    }

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _findManys);
        return inner.FindManyAsync(ids, cancellationToken);
    }

    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default) => inner.InsertIfAbsentAsync(id, entity, cancellationToken);

    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(IReadOnlyCollection<KeyValuePair<string, TNew>> entities, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _insertManys);
        return inner.InsertManyIfAbsentAsync(entities, cancellationToken);
    }

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default) => inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
}
