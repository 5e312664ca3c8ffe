using System.Collections.Concurrent;
using LazyMigrate.TestKit;

namespace LazyMigrate.Tests.Support;

/// <summary>
/// An old store that counts its writes per id, tracks how many writes of one id run at once, and, once
/// <see cref="Hold"/> is called, pauses every write until <see cref="Release"/>: lets a test act while a dispatcher is
/// in the middle of an old-store write.
/// </summary>
public sealed class WriteTrackingOldStore<TOld>(IOldStore<TOld> inner) : AroundWriteOldStore<TOld>(inner)
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

    protected override async ValueTask WriteAsync(
        string id,
        TOld? entity,
        Func<CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    )
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

            await write(cancellationToken);
        }
        finally
        {
            _inFlight.AddOrUpdate(id, 0, static (_, n) => n - 1);
        }
    }
}
