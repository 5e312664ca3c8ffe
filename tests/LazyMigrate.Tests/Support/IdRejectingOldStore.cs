using LazyMigrate.InMemory;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// An in-memory old store whose key, like a legacy table's integer key, cannot hold every id the new store takes: it
/// rejects the ids that start with <see cref="RejectedPrefix"/>, in <see cref="IOldStore{TOld}.ValidateId"/> and in
/// every call.
/// </summary>
public sealed class IdRejectingOldStore<TOld>(InMemoryOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    public const string RejectedPrefix = "not-a-key-";

    public ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return inner.FindAsync(id, cancellationToken);
    }

    public ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        foreach (string id in ids)
        {
            ValidateId(id);
        }

        return inner.FindManyAsync(ids, cancellationToken);
    }

    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    ) => inner.ScanAsync(afterId, cancellationToken);

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return inner.DeleteAsync(id, cancellationToken);
    }

    public void ValidateId(string id)
    {
        if (id.StartsWith(RejectedPrefix, StringComparison.Ordinal))
        {
            throw new InvalidEntityIdException(id, "the old store's key cannot hold it");
        }
    }
}
