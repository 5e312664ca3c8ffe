namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that passes every call through and, after each successful read, runs a hook with the ids the read
/// asked for: the base of the test's old stores that count or pause reads.
/// </summary>
public abstract class AfterReadOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    public async ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        TOld? found = await inner.FindAsync(id, cancellationToken);
        await AfterReadAsync([id], cancellationToken);
        return found;
    }

    public async ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        IReadOnlyDictionary<string, TOld> found = await inner.FindManyAsync(ids, cancellationToken);
        await AfterReadAsync(ids, cancellationToken);
        return found;
    }

    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    ) => inner.ScanAsync(afterId, cancellationToken);

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    public void ValidateId(string id) => inner.ValidateId(id);

    /// <summary>Runs after a read of <paramref name="ids"/> succeeded, before it returns.</summary>
    protected abstract Task AfterReadAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);
}
