namespace LazyMigrate;

/// <summary>
/// Locks from an <see cref="IMigrationLockProvider"/>, one per id, taken one by one in ordinal order (so that two
/// instances locking overlapping batches cannot deadlock) and all released on dispose. With locking off it holds none.
/// </summary>
internal sealed class ProviderLockLease<TOld, TNew> : MigrationLease<TOld, TNew>
    where TOld : class
    where TNew : class
{
    private static readonly IReadOnlyDictionary<string, NewStoreRead<TNew>> NothingKnownToBeHeld = new Dictionary<string, NewStoreRead<TNew>>();

    private readonly List<KeyValuePair<string, IMigrationLockHandle>> _handles = [];
    private bool _waited;

    private ProviderLockLease(MigrationContext<TOld, TNew> context)
        : base(context)
    {
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Known only when no lock made this caller wait: then nobody can have migrated, saved or deleted an id since the
    /// caller missed it, short of a race that insert-if-absent settles at the cost of one old-store read.
    /// </remarks>
    public override IReadOnlyDictionary<string, NewStoreRead<TNew>>? KnownState => _waited ? null : NothingKnownToBeHeld;

    public static new async ValueTask<ProviderLockLease<TOld, TNew>> AcquireAsync(MigrationContext<TOld, TNew> context, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var lease = new ProviderLockLease<TOld, TNew>(context);
        if (!context.Options.UseLock)
        {
            return lease;
        }

        try
        {
            foreach (string id in ids.Order(StringComparer.Ordinal))
            {
                lease._handles.Add(new(id, await lease.AcquireOneAsync(id, cancellationToken).ConfigureAwait(false)));
            }

            return lease;
        }
        catch
        {
            await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(IReadOnlyList<KeyValuePair<string, TNew>> entities) =>
        Context.Stores.InsertManyNewAsync(entities, CancellationToken.None);

    public override void ReportLostLocks()
    {
        foreach (var (id, handle) in _handles)
        {
            if (handle.HandleLostToken.IsCancellationRequested)
            {
                Log.LockLost(Context.Logger, Context.Name, id);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var (id, handle) in _handles)
        {
            await ReleaseAsync(id, handle).ConfigureAwait(false);
        }

        _handles.Clear();
    }

    private async ValueTask<IMigrationLockHandle> AcquireOneAsync(string id, CancellationToken cancellationToken)
    {
        long started = Context.TimeProvider.GetTimestamp();
        TimeSpan timeout = Context.Options.LockTimeout;

        // One try without waiting first tells a free lock from a contended one (see KnownState).
        IMigrationLockHandle? handle = await Context.Stores.TryLockAsync(id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        if (handle is null && timeout > TimeSpan.Zero)
        {
            _waited = true;
            handle = await Context.Stores.TryLockAsync(id, timeout, cancellationToken).ConfigureAwait(false);
        }

        Context.Metrics.LockWait(Context.Name, handle is not null, Context.TimeProvider.GetElapsedTime(started));
        return handle ?? throw TimedOut(Context, id);
    }
}
