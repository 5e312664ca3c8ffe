using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// Brings the new store up to the old store's current state for some ids written through the old API: the one
/// operation behind every forward sync item, the dispatcher's.
/// </summary>
/// <remarks>
/// <para>
/// Under the ids' locks (which every save, delete, migration and write-back of them holds too) it reads both stores
/// and the ids' outbox items, then for each id:
/// </para>
/// <list type="bullet">
/// <item>a write-back recorded later wins (<see cref="SyncOrder"/>): nothing is written;</item>
/// <item>an id the new store lacks needs nothing: it migrates later, from the old store's fresh state;</item>
/// <item>an id the old store lacks (deleted through the old API) becomes a tombstone;</item>
/// <item>an old record that is just what the new entity maps back to (a write-back's own write, come back) changes
/// nothing;</item>
/// <item>otherwise the merger (else the mapper) builds the new entity from the old record and the current one, and the
/// new store takes it, with no write-back recorded: the old store has it already.</item>
/// </list>
/// <para>
/// Echoes are compared with <see cref="EqualityComparer{T}.Default"/>: records compare by value; a class without
/// value equality is never seen as unchanged, which costs a write but no correctness.
/// </para>
/// </remarks>
internal sealed class ForwardSyncApplier<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    ForwardMapping<TOld, TNew> mapping
)
    where TOld : class
    where TNew : class
{
    public Task<ApplyResult> ApplyAsync(
        IReadOnlyList<string> ids,
        int maxParallelWrites,
        CancellationToken cancellationToken
    ) =>
        LockedApply.RunAsync(
            ids,
            (locked, result, ct) => ApplyLockedAsync(locked, locked.Count == 1 ? 1 : maxParallelWrites, result, ct),
            cancellationToken
        );

    private async Task ApplyLockedAsync(
        IReadOnlyList<string> ids,
        int maxParallelWrites,
        ApplyResult result,
        CancellationToken cancellationToken
    )
    {
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, ids, forMigration: false, cancellationToken)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            IReadOnlyDictionary<string, NewStoreRead<TNew>> current = await LockedApply
                .CurrentAsync(context, lease, ids, cancellationToken)
                .ConfigureAwait(false);
            IReadOnlyList<OutboxItem> items = await context
                .Stores.FindOutboxAsync(ids, cancellationToken)
                .ConfigureAwait(false);
            HashSet<string> superseded = SyncOrder.Superseded(items, OutboxItemKind.ForwardSync);
            var toSync = new List<string>(ids.Count);
            var staleButAhead = new List<string>();
            foreach (string id in ids)
            {
                if (superseded.Contains(id))
                {
                    result.Skip(id, SkipReasons.Superseded);
                    if (current.TryGetValue(id, out NewStoreRead<TNew> ahead) && ahead.IsStale)
                    {
                        staleButAhead.Add(id);
                    }
                }
                else if (!current.TryGetValue(id, out NewStoreRead<TNew> state) || state.State == NewStoreState.Missing)
                {
                    result.Skip(id, SkipReasons.NotMigrated);
                }
                else
                {
                    toSync.Add(id);
                }
            }

            await LockedApply
                .ForEachIdAsync(
                    staleButAhead,
                    maxParallelWrites,
                    result,
                    (id, ct) => ClearStaleAsync(id, current[id], ct),
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (toSync.Count == 0)
            {
                return;
            }

            IReadOnlyDictionary<string, TOld> old = await context
                .Stores.FindManyOldAsync(toSync, cancellationToken)
                .ConfigureAwait(false);
            // With a batch-writing new store the merged entities are written in one call after the loop.
            List<KeyValuePair<string, TNew>>? batch = context.Stores.WritesNewInBatches ? new(toSync.Count) : null;
            await LockedApply
                .ForEachIdAsync(
                    toSync,
                    maxParallelWrites,
                    result,
                    (id, ct) => SyncAsync(id, old.GetValueOrDefault(id), current[id], result, batch, ct),
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (batch is not null)
            {
                await LockedApply
                    .WriteBatchOrEachAsync(
                        context,
                        ("new", "upsert"),
                        batch,
                        upsert => upsert.Key,
                        () => context.Stores.UpsertManyNewAsync(batch, cancellationToken),
                        (upsert, ct) => context.Stores.UpsertNewAsync(upsert.Key, upsert.Value, ct),
                        maxParallelWrites,
                        result,
                        cancellationToken
                    )
                    .ConfigureAwait(false);
            }
        }
    }

    private async ValueTask SyncAsync(
        string id,
        TOld? old,
        NewStoreRead<TNew> current,
        ApplyResult result,
        List<KeyValuePair<string, TNew>>? batch,
        CancellationToken cancellationToken
    )
    {
        TNew? value = current.State == NewStoreState.Found ? current.Value : null;
        if (old is null)
        {
            if (value is null)
            {
                result.Skip(id, SkipReasons.Unchanged);
                await ClearStaleAsync(id, current, cancellationToken).ConfigureAwait(false);
                return;
            }

            await context.Stores.DeleteNewAsync(id, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (
            value is not null
            && context.ReverseMapping is { } reverse
            && EqualityComparer<TOld>.Default.Equals(reverse.ToOld(context, id, value, old), old)
        )
        {
            result.Skip(id, SkipReasons.Unchanged);
            await ClearStaleAsync(id, current, cancellationToken).ConfigureAwait(false);
            return;
        }

        TNew merged = mapping.ToNew(context.Name, id, old, value);
        if (batch is not null)
        {
            lock (batch)
            {
                batch.Add(new(id, merged));
            }

            return;
        }

        await context.Stores.UpsertNewAsync(id, merged, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes what the new store holds again when it is marked stale, since any write clears the mark: an entity whose
    /// forward sync has nothing to write would otherwise be synced again by every read.
    /// </summary>
    private async ValueTask ClearStaleAsync(string id, NewStoreRead<TNew> current, CancellationToken cancellationToken)
    {
        if (!current.IsStale)
        {
            return;
        }

        _ =
            current.State == NewStoreState.Found
                ? await context.Stores.UpsertNewAsync(id, current.Value!, cancellationToken).ConfigureAwait(false)
                : await context.Stores.DeleteNewAsync(id, cancellationToken).ConfigureAwait(false);
    }
}
