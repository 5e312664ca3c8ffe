namespace LazyMigrate.Internal;

/// <summary>
/// What a read does with entities the new store reports stale (<see cref="NewStoreRead{TNew}.IsStale"/>: written
/// through the old API since the new store last wrote them): syncs them from the old store, as the dispatcher would,
/// then reads them again, so that an old-API write is visible through the new API at once.
/// </summary>
/// <remarks>
/// A sync that fails (the old store down, a merger that throws, the lock busy) leaves the read with what the new
/// store holds, logged: the forward sync item stays in the outbox, and the dispatcher retries it.
/// </remarks>
internal sealed class StaleReadSync<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    ForwardSyncApplier<TOld, TNew> applier
)
    where TOld : class
    where TNew : class
{
    /// <summary>Gets whether a stale read is synced: only with forward sync on, which takes the locks it
    /// needs.</summary>
    public bool IsOn => context.Options.ForwardSync;

    public async ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> SyncAsync(
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    )
    {
        ApplyResult result = await applier
            .ApplyAsync(ids, context.Outbox.Options.MaxParallelWrites, cancellationToken)
            .ConfigureAwait(false);
        foreach (var (id, failure) in result.Failures)
        {
            Log.StaleReadSyncFailed(context.Logger, context.Name, id, failure);
            context.Metrics.Failure(context.Name, FailureKinds.ForwardSync);
        }

        return await context.Stores.FindManyNewAsync(ids, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<NewStoreRead<TNew>> SyncOneAsync(string id, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, NewStoreRead<TNew>> reads = await SyncAsync([id], cancellationToken)
            .ConfigureAwait(false);
        return reads.TryGetValue(id, out NewStoreRead<TNew> read) ? read : NewStoreRead<TNew>.Missing;
    }
}
