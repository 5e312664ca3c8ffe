using LazyMigrate.InMemory;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// An in-memory new store whose locks read the in-memory old store along (with <see
/// cref="InMemoryOldStore{TOld}.Peek"/>,
/// which the old store does not count as a read), as a database store does in the lock's round trip.
/// </summary>
public sealed class ReadAlongNewStore(InMemoryNewStore<NewCustomer> inner, InMemoryOldStore<OldCustomer> oldStore)
    : ILockingNewStore<NewCustomer>
{
    /// <summary>Gets how many locks read the old store along.</summary>
    public int ReadAlongCount { get; private set; }

    public ValueTask<NewStoreRead<NewCustomer>> FindAsync(string id, CancellationToken cancellationToken = default) =>
        inner.FindAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<NewCustomer>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => inner.FindManyAsync(ids, cancellationToken);

    public ValueTask<bool> InsertIfAbsentAsync(
        string id,
        NewCustomer entity,
        CancellationToken cancellationToken = default
    ) => inner.InsertIfAbsentAsync(id, entity, cancellationToken);

    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, NewCustomer>> entities,
        CancellationToken cancellationToken = default
    ) => inner.InsertManyIfAbsentAsync(entities, cancellationToken);

    public ValueTask UpsertAsync(string id, NewCustomer entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    public ValueTask<INewStoreLock<NewCustomer>?> TryLockAsync(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => inner.TryLockAsync(ids, timeout, cancellationToken);

    public async ValueTask<INewStoreLock<NewCustomer>?> TryLockAndReadOldAsync<TOld>(
        IReadOnlyList<string> ids,
        TimeSpan timeout,
        IOldStore<TOld> oldStoreOfMigration,
        CancellationToken cancellationToken = default
    )
        where TOld : class
    {
        Assert.Same(oldStore, oldStoreOfMigration);
        INewStoreLock<NewCustomer>? held = await inner.TryLockAsync(ids, timeout, cancellationToken);
        if (held is null)
        {
            return null;
        }

        ReadAlongCount++;
        var old = ids.Where(id => !held.Current.ContainsKey(id))
            .Select(id => (Id: id, Entity: oldStore.Peek(id)))
            .Where(e => e.Entity is not null)
            .ToDictionary(e => e.Id, e => e.Entity!, StringComparer.Ordinal);
        return new Lock(held, old);
    }

    private sealed class Lock(INewStoreLock<NewCustomer> inner, IReadOnlyDictionary<string, OldCustomer> old)
        : INewStoreLock<NewCustomer>,
            IOldStoreReadAlong<OldCustomer>
    {
        public IReadOnlyDictionary<string, NewStoreRead<NewCustomer>> Current => inner.Current;

        public CancellationToken HandleLostToken => inner.HandleLostToken;

        public IReadOnlyDictionary<string, OldCustomer> OldEntities => old;

        public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAndReleaseAsync(
            IReadOnlyCollection<KeyValuePair<string, NewCustomer>> entities,
            CancellationToken cancellationToken = default
        ) => inner.InsertManyIfAbsentAndReleaseAsync(entities, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
