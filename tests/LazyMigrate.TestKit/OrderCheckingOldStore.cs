using System.Collections.Concurrent;

namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that checks the write-backs it is given against the new store's history (<see cref="WriteOrderLog"/>):
/// each write of an entity brings a state the new store held, never one older than the last it brought, and no two
/// writes of an entity run at once. What it finds is kept in <see cref="Violations"/>, not thrown, so the dispatcher
/// goes on as it would and the test fails on them at the end.
/// </summary>
/// <remarks>
/// Put it directly around the real store, inside any wrapper that fails writes: it counts a write once the store took
/// it. The seeded record is the state before the first.
/// </remarks>
public sealed class OrderCheckingOldStore<TOld>(IOldStore<TOld> inner, WriteOrderLog log, Func<TOld, long> versionOf)
    : AroundWriteOldStore<TOld>(inner)
    where TOld : class
{
    private readonly ConcurrentDictionary<string, int> _lastApplied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _writing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _writes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();

    /// <summary>Gets the writes that went back in time, brought a state never written, or overlapped another.</summary>
    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>Gets the writes the store took, by entity id.</summary>
    public IReadOnlyDictionary<string, int> Writes => _writes;

    protected override async ValueTask WriteAsync(
        string id,
        TOld? entity,
        Func<CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    )
    {
        if (_writing.AddOrUpdate(id, 1, (_, n) => n + 1) > 1)
        {
            _violations.Enqueue($"{id}: two writes at once");
        }

        try
        {
            int last = _lastApplied.GetValueOrDefault(id, -1);
            long? version = entity is null ? null : versionOf(entity);
            int position = log.PositionOf(id, version, last);
            await write(cancellationToken);
            _writes.AddOrUpdate(id, 1, (_, n) => n + 1);
            if (position < 0)
            {
                _violations.Enqueue(
                    $"{id}: {(version is null ? "a delete" : $"version {version}")} was written to the old store "
                        + $"after {log.Describe(id, last)}, but the new store held no such state"
                );
            }
            else if (position < last)
            {
                _violations.Enqueue(
                    $"{id}: the old store went back from {log.Describe(id, last)} to {log.Describe(id, position)}"
                );
            }
            else
            {
                _lastApplied[id] = position;
            }
        }
        finally
        {
            _writing.AddOrUpdate(id, 0, (_, n) => n - 1);
        }
    }
}
