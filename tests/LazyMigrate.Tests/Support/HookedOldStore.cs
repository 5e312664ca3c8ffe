namespace LazyMigrate.Tests.Support;

/// <summary>An old store that runs a test's code before every upsert: to fail it.</summary>
public sealed class HookedOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    /// <summary>Gets or sets code run before every upsert, given its id; it may throw to fail it.</summary>
    public Action<string>? BeforeUpsert { get; set; }

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

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        BeforeUpsert?.Invoke(id);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);
}
