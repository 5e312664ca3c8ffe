namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that passes every call through and, before each write (upsert or delete), runs a hook with the id:
/// the base of the test's old stores that hold or fail writes, as <see cref="AfterReadOldStore{TOld}"/> is for reads.
/// </summary>
public abstract class BeforeWriteOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    public ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        inner.FindAsync(id, cancellationToken);

    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    ) => inner.FindManyAsync(ids, cancellationToken);

    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    ) => inner.ScanAsync(afterId, cancellationToken);

    public async ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        await BeforeWriteAsync(id, isDelete: false, cancellationToken);
        await inner.UpsertAsync(id, entity, cancellationToken);
    }

    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        await BeforeWriteAsync(id, isDelete: true, cancellationToken);
        await inner.DeleteAsync(id, cancellationToken);
    }

    public void ValidateId(string id) => inner.ValidateId(id);

    /// <summary>Runs before a write of <paramref name="id"/> reaches the store; a throw fails the write.</summary>
    protected abstract Task BeforeWriteAsync(string id, bool isDelete, CancellationToken cancellationToken);
}
