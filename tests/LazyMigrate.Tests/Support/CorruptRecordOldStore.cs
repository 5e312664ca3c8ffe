namespace LazyMigrate.Tests.Support;

/// <summary>
/// An old store whose records of some ids are corrupt: its scan yields every entity before one, then throws, as the
/// PostgreSQL stores do; a read of one throws too.
/// </summary>
public sealed class CorruptRecordOldStore<TOld>(IOldStore<TOld> inner, params string[] corruptIds) : IOldStore<TOld>
    where TOld : class
{
    public ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        corruptIds.Contains(id) ? throw new CorruptRecordException(id) : inner.FindAsync(id, cancellationToken);

    public async ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        if (ids.FirstOrDefault(corruptIds.Contains) is { } corrupt)
        {
            throw new CorruptRecordException(corrupt);
        }

        return await inner.FindManyAsync(ids, cancellationToken);
    }

    public async IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        await foreach (var entity in inner.ScanAsync(afterId, cancellationToken))
        {
            if (corruptIds.Contains(entity.Key))
            {
                throw new CorruptRecordException(entity.Key);
            }

            yield return entity;
        }
    }

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);
}

/// <summary>The corrupt record of <see cref="CorruptRecordOldStore{TOld}"/>.</summary>
public sealed class CorruptRecordException(string entityId)
    : CorruptEntityException(entityId, $"The record of entity '{entityId}' is corrupt: a test said so.", null);
