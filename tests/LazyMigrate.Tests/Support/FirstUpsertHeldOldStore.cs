using LazyMigrate.InMemory;
using LazyMigrate.TestKit;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// A real old store whose first upsert waits at <see cref="Gate"/> before it writes: a write-back held between its
/// two writes.
/// </summary>
public sealed class FirstUpsertHeldOldStore<TOld>(InMemoryOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    private int _upserts;

    public PauseGate Gate { get; } = new();

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
        if (Interlocked.Increment(ref _upserts) == 1)
        {
            await Gate.PauseAsync(cancellationToken);
        }

        await inner.UpsertAsync(id, entity, cancellationToken);
    }

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);
}
