using LazyMigrate.Outbox;

namespace LazyMigrate.Internal;

/// <summary>
/// Brings the old store up to the new store's current state for some ids: the one operation behind every write-back
/// item, the dispatcher's and the repair of a <see cref="WriteBackMode.Sync"/> write whose lock was lost.
/// </summary>
/// <remarks>
/// Under the ids' locks it reads what the new store holds now and writes that to the old store: a value through the
/// reverse mapping (a merger with the old store's current record), a tombstone as a delete, nothing for an id the new
/// store lost. Since every writer of the old store does this under the lock, and reads the state under it, the old
/// store never goes back to a state older than one it had; and since the state is the current one, applying twice
/// converges.
/// </remarks>
internal sealed class WriteBackApplier<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    ReverseMapping<TOld, TNew> reverseMapping
)
    where TOld : class
    where TNew : class
{
    /// <summary>
    /// Applies the ids' current state; returns the failure of each id that failed and the ids a later forward sync
    /// supersedes (with <see cref="LazyMigrationOptions.ForwardSync"/>), which it leaves as they are.
    /// </summary>
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
            ids = await WithoutSupersededAsync(ids, result, cancellationToken).ConfigureAwait(false);
            if (context.Stores.WritesOldInBatches && ids.Count > 1)
            {
                await ApplyInBatchesAsync(ids, current, maxParallelWrites, result, cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                await LockedApply
                    .ForEachIdAsync(
                        ids,
                        maxParallelWrites,
                        result,
                        (id, ct) => ApplyStateAsync(id, StateOf(current, id), ct),
                        cancellationToken
                    )
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// With forward sync, leaves out the ids written through the old API after their last write through the new one
    /// (<see cref="SyncOrder"/>): their forward sync brings the new store up to the old one instead.
    /// </summary>
    private async ValueTask<IReadOnlyList<string>> WithoutSupersededAsync(
        IReadOnlyList<string> ids,
        ApplyResult result,
        CancellationToken cancellationToken
    )
    {
        if (!context.Options.ForwardSync || ids.Count == 0)
        {
            return ids;
        }

        IReadOnlyList<OutboxItem> items = await context
            .Stores.FindOutboxAsync(ids, cancellationToken)
            .ConfigureAwait(false);
        HashSet<string> superseded = SyncOrder.Superseded(items, OutboxItemKind.WriteBack);
        if (superseded.Count == 0)
        {
            return ids;
        }

        foreach (string id in superseded)
        {
            result.Skip(id, SkipReasons.Superseded);
        }

        return [.. ids.Where(id => !superseded.Contains(id))];
    }

    /// <summary>
    /// Maps every id's state, then writes the upserts in one call and the deletes in another; where a call fails,
    /// each of its ids is written on its own, so that the one the old store refuses fails alone.
    /// </summary>
    private async Task ApplyInBatchesAsync(
        IReadOnlyList<string> ids,
        IReadOnlyDictionary<string, NewStoreRead<TNew>> current,
        int maxParallelWrites,
        ApplyResult result,
        CancellationToken cancellationToken
    )
    {
        var upserts = new List<KeyValuePair<string, TOld>>(ids.Count);
        var deletes = new List<string>();
        await LockedApply
            .ForEachIdAsync(
                ids,
                maxParallelWrites,
                result,
                async (id, ct) =>
                {
                    NewStoreRead<TNew> read = StateOf(current, id);
                    if (read.State == NewStoreState.Found)
                    {
                        TOld oldEntity = await reverseMapping
                            .ToOldAsync(context, id, read.Value!, ct)
                            .ConfigureAwait(false);
                        lock (upserts)
                        {
                            upserts.Add(new(id, oldEntity));
                        }
                    }
                    else if (read.State == NewStoreState.Deleted)
                    {
                        lock (deletes)
                        {
                            deletes.Add(id);
                        }
                    }
                },
                cancellationToken
            )
            .ConfigureAwait(false);

        await LockedApply
            .WriteBatchOrEachAsync(
                context,
                ("old", "upsert"),
                upserts,
                upsert => upsert.Key,
                () => context.Stores.UpsertManyOldAsync(upserts, cancellationToken),
                (upsert, ct) => context.Stores.UpsertOldAsync(upsert.Key, upsert.Value, ct),
                maxParallelWrites,
                result,
                cancellationToken
            )
            .ConfigureAwait(false);
        await LockedApply
            .WriteBatchOrEachAsync(
                context,
                ("old", "delete"),
                deletes,
                id => id,
                () => context.Stores.DeleteManyOldAsync(deletes, cancellationToken),
                (id, ct) => context.Stores.DeleteOldAsync(id, ct),
                maxParallelWrites,
                result,
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    private static NewStoreRead<TNew> StateOf(IReadOnlyDictionary<string, NewStoreRead<TNew>> current, string id) =>
        current.TryGetValue(id, out NewStoreRead<TNew> read) ? read : NewStoreRead<TNew>.Missing;

    private async ValueTask ApplyStateAsync(string id, NewStoreRead<TNew> read, CancellationToken cancellationToken)
    {
        if (read.State == NewStoreState.Found)
        {
            TOld oldEntity = await reverseMapping
                .ToOldAsync(context, id, read.Value!, cancellationToken)
                .ConfigureAwait(false);
            await context.Stores.UpsertOldAsync(id, oldEntity, cancellationToken).ConfigureAwait(false);
        }
        else if (read.State == NewStoreState.Deleted)
        {
            await context.Stores.DeleteOldAsync(id, cancellationToken).ConfigureAwait(false);
        }

        // Missing: the new store lost the id (cleared by hand); the old store is left as it is.
    }
}
