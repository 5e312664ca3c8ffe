namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that pauses every read after reading: <see cref="Read"/> completes when a read has happened, and the
/// read returns only once <see cref="Release"/> is called. Lets a test act in the middle of a migration.
/// </summary>
/// <remarks>
/// Being a wrapper, it turns off a store-held lock's read-along (the PostgreSQL new store reads the old table under its
/// lock only when given the <c>PostgreSqlOldStore</c> itself): to pause a migration on the path users get, hold its
/// insert with a <see cref="CountingNewStore{TNew}"/> and a <see cref="PauseGate"/> instead.
/// </remarks>
public sealed class GatedOldStore<TOld>(IOldStore<TOld> inner) : AfterReadOldStore<TOld>(inner)
    where TOld : class
{
    private readonly PauseGate _gate = new();

    public Task Read => _gate.Reached;

    /// <summary>Gets a task that completes when a paused read is cancelled through its token.</summary>
    public Task Cancelled => _gate.Cancelled;

    /// <summary>Gets the number of paused reads that ended because their token was cancelled.</summary>
    public int CancelledReads => _gate.CancelledPauses;

    public void Release() => _gate.Release();

    protected override Task AfterReadAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        _gate.PauseAsync(cancellationToken);
}
