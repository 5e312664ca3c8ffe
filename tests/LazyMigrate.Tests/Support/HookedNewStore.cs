namespace LazyMigrate.Tests.Support;

/// <summary>
/// A new store that runs a test's code before a read or an insert, or right after an insert or an upsert.
/// </summary>
public sealed class HookedNewStore<TNew>(INewStore<TNew> inner) : INewStore<TNew>
    where TNew : class
{
    /// <summary>Gets or sets code run before every read (one id or many); it may throw to fail the read.</summary>
    public Action? BeforeFind { get; set; }

    /// <summary>
    /// Gets or sets code run before every insert, for example a concurrent save the insert then loses to.
    /// </summary>
    public Action? BeforeInsert { get; set; }

    public Action? AfterInsert { get; set; }

    /// <summary>Gets or sets code run before every many-id insert, given its ids: to charge a fake clock.</summary>
    public Action<IReadOnlyCollection<string>>? BeforeInsertMany { get; set; }

    /// <summary>
    /// Gets or sets a predicate, asked on every many-id read, that makes it return null: a broken store.
    /// </summary>
    public Func<bool>? FindManyReturnsNull { get; set; }

    public Action? AfterUpsert { get; set; }

    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        BeforeFind?.Invoke();
        return inner.FindAsync(id, cancellationToken);
    }

    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        BeforeFind?.Invoke();
        return FindManyReturnsNull?.Invoke() == true
            ? ValueTask.FromResult<IReadOnlyDictionary<string, NewStoreRead<TNew>>>(null!)
            : inner.FindManyAsync(ids, cancellationToken);
    }

    public async ValueTask<bool> InsertIfAbsentAsync(
        string id,
        TNew entity,
        CancellationToken cancellationToken = default
    )
    {
        BeforeInsert?.Invoke();
        bool inserted = await inner.InsertIfAbsentAsync(id, entity, cancellationToken);
        AfterInsert?.Invoke();
        return inserted;
    }

    public async ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyCollection<KeyValuePair<string, TNew>> entities,
        CancellationToken cancellationToken = default
    )
    {
        BeforeInsert?.Invoke();
        BeforeInsertMany?.Invoke([.. entities.Select(e => e.Key)]);
        IReadOnlyCollection<string> inserted = await inner.InsertManyIfAbsentAsync(entities, cancellationToken);
        AfterInsert?.Invoke();
        return inserted;
    }

    public async ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        await inner.UpsertAsync(id, entity, cancellationToken);
        AfterUpsert?.Invoke();
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);
}
