namespace LazyMigrate.Tests.Support;

/// <summary>
/// A new store that, like PostgreSQL with a string holding a NUL, cannot hold the entities of some ids: a write of one
/// of them throws <see cref="UnstorableEntityException"/> before anything is written, and a batch insert holding one
/// fails whole, naming the first.
/// </summary>
public sealed class UnstorableNewStore<TNew>(INewStore<TNew> inner, params string[] unstorableIds) : INewStore<TNew>
    where TNew : class
{
    private int _writes;

    /// <summary>Gets or sets the failure the refusal wraps, if any.</summary>
    public Exception? Cause { get; set; }

    /// <summary>Gets how many writes (inserts and upserts, one or many ids) the store was asked for.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default) =>
        inner.FindAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => inner.FindManyAsync(ids, cancellationToken);

    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        Refuse([id]);
        return inner.InsertIfAbsentAsync(id, entity, cancellationToken);
    }

    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        Refuse(entities.Select(e => e.Key));
        return inner.InsertManyIfAbsentAsync(entities, cancellationToken);
    }

    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        Refuse([id]);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    private void Refuse(IEnumerable<string> ids)
    {
        Interlocked.Increment(ref _writes);
        if (ids.FirstOrDefault(unstorableIds.Contains) is { } unstorable)
        {
            throw new UnstorableEntityException(unstorable, "a string in it holds a NUL character.", Cause);
        }
    }
}
