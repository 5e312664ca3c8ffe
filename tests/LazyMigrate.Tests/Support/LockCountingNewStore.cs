namespace LazyMigrate.Tests.Support;

/// <summary>A new store that locks through the store it wraps and counts how often it was asked to.</summary>
public sealed class LockCountingNewStore<TNew>(ILockingNewStore<TNew> inner) : ILockingNewStore<TNew>
    where TNew : class
{
    private int _lockCount;

    public int LockCount => Volatile.Read(ref _lockCount);

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

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    public ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _lockCount);
        return inner.TryLockAsync(ids, timeout, cancellationToken);
    }
}
