using System.Collections.Concurrent;
using LazyMigrate.TestKit;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// An old store that counts its writes per id, tracks how many writes of one id run at once, and, once
/// <see cref="Hold"/> is called, pauses every write until <see cref="Release"/>: lets a test act while a dispatcher is
/// in the middle of an old-store write.
/// </summary>
public sealed class WriteTrackingOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    private readonly ConcurrentDictionary<string, int> _writes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private PauseGate? _pause;
    private int _mostAtOnce;

    /// <summary>Gets the most writes of one id that ran at the same time.</summary>
    public int MostWritesOfOneIdAtOnce => Volatile.Read(ref _mostAtOnce);

    /// <summary>Gets a task that completes when a held write has arrived.</summary>
    public Task Reached => _pause?.Reached ?? throw new InvalidOperationException("Call Hold first.");

    /// <summary>Gets how many writes (upserts and deletes) of <paramref name="id"/> started.</summary>
    public int WritesOf(string id) => _writes.GetValueOrDefault(id);

    /// <summary>Holds every write from now on, until <see cref="Release"/>.</summary>
    public void Hold() => _pause = new PauseGate();

    /// <summary>Lets the held writes, and every later one, through.</summary>
    public void Release() => _pause?.Release();

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
        WriteAsync(id, () => inner.UpsertAsync(id, entity, cancellationToken), cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        WriteAsync(id, () => inner.DeleteAsync(id, cancellationToken), cancellationToken);

    public void ValidateId(string id) => inner.ValidateId(id);

    private async ValueTask WriteAsync(string id, Func<ValueTask> write, CancellationToken cancellationToken)
    {
        _writes.AddOrUpdate(id, 1, static (_, n) => n + 1);
        int atOnce = _inFlight.AddOrUpdate(id, 1, static (_, n) => n + 1);
        lock (_gate)
        {
            _mostAtOnce = Math.Max(_mostAtOnce, atOnce);
        }

        try
        {
            if (_pause is { } pause)
            {
                await pause.PauseAsync(cancellationToken);
            }

            await write();
        }
        finally
        {
            _inFlight.AddOrUpdate(id, 0, static (_, n) => n - 1);
        }
    }
}
