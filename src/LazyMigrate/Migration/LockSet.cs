namespace LazyMigrate;

/// <summary>
/// The migration locks of a batch of ids, taken one by one in ordinal order (so that two instances locking
/// overlapping batches cannot deadlock) and all released on dispose.
/// </summary>
internal sealed class LockSet<TOld, TNew> : IAsyncDisposable
    where TOld : class
    where TNew : class
{
    private readonly MigrationContext<TOld, TNew> _context;
    private readonly List<KeyValuePair<string, IMigrationLockHandle>> _handles = [];

    private LockSet(MigrationContext<TOld, TNew> context) => _context = context;

    /// <summary>
    /// Gets whether any lock was held by someone else when first tried. Only then can another instance have migrated,
    /// saved or deleted one of the ids since this caller missed it, so only then is a re-check of the new store worth a
    /// round trip; otherwise insert-if-absent settles the rare race at the cost of one old-store read.
    /// </summary>
    public bool WaitedForAny { get; private set; }

    /// <summary>Takes the locks of <paramref name="ids"/>, or none when the migration runs without locks.</summary>
    /// <exception cref="MigrationLockTimeoutException">A lock was not acquired in time; those taken are released.</exception>
    public static async ValueTask<LockSet<TOld, TNew>> AcquireAsync(MigrationContext<TOld, TNew> context, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var locks = new LockSet<TOld, TNew>(context);
        if (!context.Options.UseLock)
        {
            return locks;
        }

        try
        {
            foreach (string id in ids.Order(StringComparer.Ordinal))
            {
                locks._handles.Add(new(id, await locks.AcquireOneAsync(id, cancellationToken).ConfigureAwait(false)));
            }

            return locks;
        }
        catch
        {
            await locks.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Logs every lock known to be lost. The write that follows stays safe: insert-if-absent fences it.</summary>
    public void ReportLostLocks()
    {
        foreach (var (id, handle) in _handles)
        {
            if (handle.HandleLostToken.IsCancellationRequested)
            {
                Log.LockLost(_context.Logger, _context.Name, id);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (id, handle) in _handles)
        {
            try
            {
                await _context.Stores.ReleaseLockAsync(id, handle).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The migration's result stands; an unreleased lock expires or dies with its connection.
                Log.LockReleaseFailed(_context.Logger, _context.Name, id, exception);
            }
        }

        _handles.Clear();
    }

    private async ValueTask<IMigrationLockHandle> AcquireOneAsync(string id, CancellationToken cancellationToken)
    {
        long started = _context.TimeProvider.GetTimestamp();
        TimeSpan timeout = _context.Options.LockTimeout;

        // One try without waiting first tells a free lock from a contended one (see WaitedForAny).
        IMigrationLockHandle? handle = await _context.Stores.TryLockAsync(id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        if (handle is null && timeout > TimeSpan.Zero)
        {
            WaitedForAny = true;
            handle = await _context.Stores.TryLockAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        }

        _context.Metrics.LockWait(_context.Name, handle is not null, _context.TimeProvider.GetElapsedTime(started));
        if (handle is null)
        {
            Log.LockTimeout(_context.Logger, _context.Name, id, timeout);
            throw new MigrationLockTimeoutException(_context.Name, id, timeout);
        }

        return handle;
    }
}
