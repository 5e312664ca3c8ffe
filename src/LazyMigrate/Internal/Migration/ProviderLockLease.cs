using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// Locks from an <see cref="IMigrationLockProvider"/>: a batch's all at once from a provider that can
/// (<see cref="IMigrationBatchLockProvider"/>, one session for the batch), otherwise one per id, taken one by one in
/// ordinal order (so that two instances locking overlapping batches cannot deadlock). Either way the whole batch waits
/// at most <see cref="LazyMigrationOptions.LockTimeout"/>, and everything is released on dispose. With locking off it
/// holds none.
/// </summary>
internal sealed class ProviderLockLease<TOld, TNew> : MigrationLease<TOld, TNew>
    where TOld : class
    where TNew : class
{
    private static readonly IReadOnlyDictionary<string, NewStoreRead<TNew>> NothingKnownToBeHeld =
        new Dictionary<string, NewStoreRead<TNew>>();

    private readonly List<KeyValuePair<string, IMigrationLockHandle>> _handles = [];

    private ProviderLockLease(MigrationContext<TOld, TNew> context)
        : base(context) { }

    /// <inheritdoc/>
    /// <remarks>
    /// Under a lock, never known: a caller may have missed the entity just before another migration (even one in this
    /// process) committed it, so it reads again, and an instance reads the old store once at most. Without a lock
    /// nothing is fenced but by insert-if-absent, so the re-check is skipped: it would cost a round trip and still
    /// race.
    /// </remarks>
    public override IReadOnlyDictionary<string, NewStoreRead<TNew>>? KnownState =>
        _handles.Count == 0 ? NothingKnownToBeHeld : null;

    /// <inheritdoc/>
    /// <remarks>The handle's token when the lease holds one lock (a write-back's); otherwise none.</remarks>
    public override CancellationToken LockLostToken =>
        _handles.Count == 1 ? _handles[0].Value.HandleLostToken : CancellationToken.None;

    /// <summary>A lease that holds no lock, whatever the options say: a backfill's insert-if-absent alone.</summary>
    public static ProviderLockLease<TOld, TNew> None(MigrationContext<TOld, TNew> context) => new(context);

    public static async ValueTask<ProviderLockLease<TOld, TNew>> AcquireAsync(
        MigrationContext<TOld, TNew> context,
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    )
    {
        var lease = new ProviderLockLease<TOld, TNew>(context);
        if (!context.Options.UseLock)
        {
            return lease;
        }

        var deadline = LockDeadline.Start(context.TimeProvider, context.Options.LockTimeout);
        try
        {
            if (ids.Count > 1 && context.Stores.CanLockMany)
            {
                lease._handles.Add(
                    new(ids[0], await lease.AcquireAsync(ids, deadline, cancellationToken).ConfigureAwait(false))
                );
                return lease;
            }

            foreach (string id in ids.Order(StringComparer.Ordinal))
            {
                lease._handles.Add(
                    new(id, await lease.AcquireAsync([id], deadline, cancellationToken).ConfigureAwait(false))
                );
            }

            return lease;
        }
        catch
        {
            await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(
        IReadOnlyList<KeyValuePair<string, TNew>> entities,
        IReadOnlyDictionary<string, OutboxIntent>? intents
    ) =>
        intents is null
            ? Context.Stores.InsertManyNewAsync(entities, CancellationToken.None)
            : Context.Stores.InsertManyAndRecordNewAsync(entities, intents, CancellationToken.None);

    public override async ValueTask DisposeAsync()
    {
        foreach (var (id, handle) in _handles)
        {
            await ReleaseAsync(id, handle).ConfigureAwait(false);
        }

        _handles.Clear();
    }

    /// <summary>Locks one id, or a batch at once; a timeout names the first id.</summary>
    private async ValueTask<IMigrationLockHandle> AcquireAsync(
        IReadOnlyList<string> ids,
        LockDeadline deadline,
        CancellationToken cancellationToken
    )
    {
        long started = Context.TimeProvider.GetTimestamp();
        IMigrationLockHandle? handle =
            ids.Count == 1
                ? await Context.Stores.TryLockAsync(ids[0], deadline, cancellationToken).ConfigureAwait(false)
                : await Context.Stores.TryLockManyAsync(ids, deadline, cancellationToken).ConfigureAwait(false);

        Context.Metrics.LockWait(Context.Name, handle is not null, Context.TimeProvider.GetElapsedTime(started));
        return handle ?? throw TimedOut(Context, ids[0]);
    }
}
