using LazyMigrate.InMemory;
using LazyMigrate.TestKit;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// A real old store whose first upsert waits at <see cref="Gate"/> before it writes: a write-back held between its
/// two writes.
/// </summary>
public sealed class FirstUpsertHeldOldStore<TOld>(InMemoryOldStore<TOld> inner) : BeforeWriteOldStore<TOld>(inner)
    where TOld : class
{
    private int _upserts;

    public PauseGate Gate { get; } = new();

    protected override Task BeforeWriteAsync(string id, bool isDelete, CancellationToken cancellationToken) =>
        !isDelete && Interlocked.Increment(ref _upserts) == 1 ? Gate.PauseAsync(cancellationToken) : Task.CompletedTask;
}
