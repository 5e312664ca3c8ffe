namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that passes every call through and runs each write (an upsert or a delete) through a hook: the base
/// of the test's old stores that fault, hold or check writes.
/// </summary>
public abstract class AroundWriteOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>
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

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default) =>
        WriteAsync(id, entity, ct => inner.UpsertAsync(id, entity, ct), cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        WriteAsync(id, null, ct => inner.DeleteAsync(id, ct), cancellationToken);

    public void ValidateId(string id) => inner.ValidateId(id);

    /// <summary>Runs one write of <paramref name="id"/>; <paramref name="write"/> reaches the inner store.</summary>
    /// <param name="id">The entity id.</param>
    /// <param name="entity">The entity an upsert writes; <see langword="null"/> for a delete.</param>
    /// <param name="write">The write on the inner store.</param>
    /// <param name="cancellationToken">The write's cancellation token.</param>
    protected abstract ValueTask WriteAsync(
        string id,
        TOld? entity,
        Func<CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    );
}
