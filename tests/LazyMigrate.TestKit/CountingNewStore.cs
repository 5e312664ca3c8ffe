namespace LazyMigrate.TestKit;

/// <summary>Counts the calls made to a new store, by method.</summary>
/// <remarks>It passes <see cref="ILockingNewStore{TNew}"/> through when the inner store implements it.</remarks>
public sealed class CountingNewStore<TNew>(INewStore<TNew> inner) : ILockingNewStore<TNew>
    where TNew : class
{
    private int _finds;
    private int _findManys;
    private int _insertManys;
    private int _inserted;

    public int FindCalls => Volatile.Read(ref _finds);

    public int FindManyCalls => Volatile.Read(ref _findManys);

    public int InsertManyCalls => Volatile.Read(ref _insertManys);

    /// <summary>Gets the number of ids the store reported as inserted by insert-if-absent, over all calls.</summary>
    public int InsertedCount => Volatile.Read(ref _inserted);

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _finds);
        return inner.FindAsync(id, cancellationToken);
    }

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _findManys);
        return inner.FindManyAsync(ids, cancellationToken);
    }

    public async ValueTask<bool> InsertIfAbsentAsync(
        string id,
        TNew entity,
        CancellationToken cancellationToken = default
    )
    {
        bool inserted = await inner.InsertIfAbsentAsync(id, entity, cancellationToken);
        if (inserted)
        {
            Interlocked.Increment(ref _inserted);
        }

        return inserted;
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _insertManys);
        IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAsync(entities, cancellationToken);
        Interlocked.Add(ref _inserted, inserted.Count);
        return inserted;
    }

    public async ValueTask<INewStoreLock<TNew>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        var locking =
            inner as ILockingNewStore<TNew>
            ?? throw new NotSupportedException($"{inner.GetType().Name} cannot lock its entities.");
        INewStoreLock<TNew>? held = await locking.TryLockAsync(ids, timeout, cancellationToken);
        return held is null ? null : new CountingLock(this, held);
    }

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    private sealed class CountingLock(CountingNewStore<TNew> owner, INewStoreLock<TNew> inner) : INewStoreLock<TNew>
    {
        public IReadOnlyDictionary<string, NewStoreRead<TNew>> Current => inner.Current;

        public CancellationToken HandleLostToken => inner.HandleLostToken;

        public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(
            IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
            CancellationToken cancellationToken = default
        )
        {
            Interlocked.Increment(ref owner._insertManys);
            IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAndReleaseAsync(
                entities,
                cancellationToken
            );
            Interlocked.Add(ref owner._inserted, inserted.Count);
            return inserted;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
