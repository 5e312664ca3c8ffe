namespace LazyMigrate.TestKit;

/// <summary>
/// An old store that pauses every read after reading: <see cref="Read"/> completes when a read has happened, and the
/// read returns only once <see cref="Release"/> is called. Lets a test act in the middle of a migration.
/// </summary>
public sealed class GatedOldStore<TOld>(IOldStore<TOld> inner) : IOldStore<TOld>
    where TOld : class
{
    private readonly TaskCompletionSource _read = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _cancelledReads;

    public Task Read => _read.Task;

    /// <summary>Gets a task that completes when a paused read is cancelled through its token.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>Gets the number of paused reads that ended because their token was cancelled.</summary>
    public int CancelledReads => Volatile.Read(ref _cancelledReads);

    public void Release() => _gate.TrySetResult();

    public async ValueTask<TOld?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        TOld? found = await inner.FindAsync(id, cancellationToken);
        await PauseAsync(cancellationToken);
        return found;
    }

    public async ValueTask<IReadOnlyDictionary<string, TOld>> FindManyAsync(
        IReadOnlyCollection<string> ids,
        CancellationToken cancellationToken = default
    )
    {
        IReadOnlyDictionary<string, TOld> found = await inner.FindManyAsync(ids, cancellationToken);
        await PauseAsync(cancellationToken);
        return found;
    }

    public IAsyncEnumerable<KeyValuePair<string, TOld>> ScanAsync(
        string? afterId,
        CancellationToken cancellationToken = default
    ) => inner.ScanAsync(afterId, cancellationToken);

    public ValueTask UpsertAsync(string id, TOld entity, CancellationToken cancellationToken = default) =>
        inner.UpsertAsync(id, entity, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(id, cancellationToken);

    private async Task PauseAsync(CancellationToken cancellationToken)
    {
        _read.TrySetResult();
        try
        {
            await _gate.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelledReads);
            _cancelled.TrySetResult();
            throw;
        }
    }
}
