using System.Collections.Concurrent;

namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that counts the writes entering it by id and, once <see cref="HoldNextWrite"/> is called, holds the
/// next write at a gate before it reaches the store: a dispatcher held inside an old-store write, with the entity's
/// lock and the item's lease held. Give each instance its own, over one store, to see which instance wrote what.
/// </summary>
public sealed class WriteGatedOldStore<TOld>(IOldStore<TOld> inner) : AroundWriteOldStore<TOld>(inner)
    where TOld : class
{
    private readonly ConcurrentDictionary<string, int> _entered = new(StringComparer.Ordinal);
    private PauseGate? _next;
    private string? _heldId;

    /// <summary>Gets the id of the write held, once one is.</summary>
    public string? HeldId => Volatile.Read(ref _heldId);

    /// <summary>Gets the writes that entered this store, by entity id, held ones included.</summary>
    public IReadOnlyDictionary<string, int> Entered => _entered;

    /// <summary>Holds the next write: <see cref="PauseGate.Reached"/> completes when it arrives.</summary>
    public PauseGate HoldNextWrite()
    {
        var gate = new PauseGate();
        Volatile.Write(ref _next, gate);
        return gate;
    }

    /// <summary>Gets how many writes of <paramref name="id"/> entered this store.</summary>
    public int EnteredFor(string id) => _entered.GetValueOrDefault(id);

    protected override async ValueTask WriteAsync(
        string id,
        TOld? entity,
        Func<CancellationToken, ValueTask> write,
        CancellationToken cancellationToken
    )
    {
        _entered.AddOrUpdate(id, 1, (_, n) => n + 1);
        if (Interlocked.Exchange(ref _next, null) is { } gate)
        {
            Volatile.Write(ref _heldId, id);
            await gate.PauseAsync(cancellationToken);
        }

        await write(cancellationToken);
    }
}
