using System.Collections.Concurrent;
using LazyMigrate.InMemory;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// An in-memory old store that also writes in batches, counting its calls, and that refuses one id: a batch holding
/// it fails whole, and so does its single write; with <paramref name="asSuperseded"/>, as the PostgreSQL stores refuse
/// a write-back that a later old-API write supersedes (<see cref="WriteBackSupersededException"/>).
/// </summary>
public sealed class BatchWritingOldStore<TOld>(
    InMemoryOldStore<TOld> inner,
    string? refusedId = null,
    bool asSuperseded = false
) : IBatchWritingOldStore<TOld>
    where TOld : class
{
    public ConcurrentQueue<string> Calls { get; } = new();

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
        Calls.Enqueue($"upsert {id}");
        Refuse([id]);
        return inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue($"delete {id}");
        Refuse([id]);
        return inner.DeleteAsync(id, cancellationToken);
    }

    public async ValueTask UpsertManyAsync(
        IReadOnlyList<KeyValuePair<string, TOld>> entities,
        CancellationToken cancellationToken = default
    )
    {
        Calls.Enqueue($"upsert_many {entities.Count}");
        Refuse([.. entities.Select(e => e.Key)]);
        foreach (var (id, entity) in entities)
        {
            await inner.UpsertAsync(id, entity, cancellationToken);
        }
    }

    public async ValueTask DeleteManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue($"delete_many {ids.Count}");
        Refuse(ids);
        foreach (string id in ids)
        {
            await inner.DeleteAsync(id, cancellationToken);
        }
    }

    private void Refuse(IReadOnlyList<string> ids)
    {
        if (refusedId is null || !ids.Contains(refusedId))
        {
            return;
        }

        throw asSuperseded
            ? new WriteBackSupersededException(ids[0], "A later old-API write holds the row.", entityCount: ids.Count)
            : new InvalidOperationException($"The old store refuses {refusedId}.");
    }
}
