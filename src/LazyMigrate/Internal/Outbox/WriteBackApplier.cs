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
    /// <summary>Applies the ids' current state; returns the failure of each id that failed.</summary>
    /// <remarks>
    /// The ids are locked together (one round trip with a store-held lock); if that times out, each is tried on its
    /// own, so one busy entity does not hold back the others.
    /// </remarks>
    public async Task<Dictionary<string, Exception>> ApplyAsync(
        IReadOnlyList<string> ids,
        int maxParallelWrites,
        CancellationToken cancellationToken
    )
    {
        var failures = new Dictionary<string, Exception>(StringComparer.Ordinal);
        try
        {
            await ApplyLockedAsync(ids, maxParallelWrites, failures, cancellationToken).ConfigureAwait(false);
        }
        catch (MigrationLockTimeoutException) when (ids.Count > 1)
        {
            foreach (string id in ids)
            {
                await ApplyOneAsync(id, failures, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            foreach (string id in ids)
            {
                failures.TryAdd(id, exception);
            }
        }

        return failures;
    }

    private async Task ApplyOneAsync(string id, Dictionary<string, Exception> failures, CancellationToken ct)
    {
        try
        {
            await ApplyLockedAsync([id], 1, failures, ct).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            failures[id] = exception;
        }
    }

    private async Task ApplyLockedAsync(
        IReadOnlyList<string> ids,
        int maxParallelWrites,
        Dictionary<string, Exception> failures,
        CancellationToken cancellationToken
    )
    {
        MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
            .AcquireAsync(context, ids, forMigration: false, cancellationToken)
            .ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            // A store-held lock read the ids under the lock; otherwise they are read now, under it (a provider's lease,
            // or none without UseLock, knows nothing of the new store's current state).
            IReadOnlyDictionary<string, NewStoreRead<TNew>> current = lease
                is NewStoreLockLease<TOld, TNew> { KnownState: { } read }
                ? read
                : await context.Stores.FindManyNewAsync(ids, cancellationToken).ConfigureAwait(false);
            if (context.Stores.WritesOldInBatches && ids.Count > 1)
            {
                await ApplyInBatchesAsync(ids, current, maxParallelWrites, failures, cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                await ForEachIdAsync(
                        ids,
                        maxParallelWrites,
                        failures,
                        (id, ct) => ApplyStateAsync(id, StateOf(current, id), ct),
                        cancellationToken
                    )
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Maps every id's state, then writes the upserts in one call and the deletes in another; where a call fails,
    /// each of its ids is written on its own, so that the one the old store refuses fails alone.
    /// </summary>
    private async Task ApplyInBatchesAsync(
        IReadOnlyList<string> ids,
        IReadOnlyDictionary<string, NewStoreRead<TNew>> current,
        int maxParallelWrites,
        Dictionary<string, Exception> failures,
        CancellationToken cancellationToken
    )
    {
        var upserts = new List<KeyValuePair<string, TOld>>(ids.Count);
        var deletes = new List<string>();
        await ForEachIdAsync(
                ids,
                maxParallelWrites,
                failures,
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

        if (
            upserts.Count > 0
            && !await TryBatchAsync(
                    "upsert",
                    upserts[0].Key,
                    upserts.Count,
                    () => context.Stores.UpsertManyOldAsync(upserts, cancellationToken)
                )
                .ConfigureAwait(false)
        )
        {
            var byId = new Dictionary<string, TOld>(upserts, StringComparer.Ordinal);
            await ForEachIdAsync(
                    [.. byId.Keys],
                    maxParallelWrites,
                    failures,
                    async (id, ct) => await context.Stores.UpsertOldAsync(id, byId[id], ct).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
        }

        if (
            deletes.Count > 0
            && !await TryBatchAsync(
                    "delete",
                    deletes[0],
                    deletes.Count,
                    () => context.Stores.DeleteManyOldAsync(deletes, cancellationToken)
                )
                .ConfigureAwait(false)
        )
        {
            await ForEachIdAsync(
                    deletes,
                    maxParallelWrites,
                    failures,
                    async (id, ct) => await context.Stores.DeleteOldAsync(id, ct).ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs a batch write; <see langword="false"/> if it failed (then each id is written alone), whether it threw at
    /// once (an id the store refuses before any round trip) or later.
    /// </summary>
    private async Task<bool> TryBatchAsync(string operation, string firstId, int count, Func<ValueTask<bool>> write)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.WriteBackBatchFailed(context.Logger, context.Name, operation, count, firstId, exception);
            return false;
        }
    }

    /// <summary>Runs a step for each id, a few at a time; a step that throws records the id's failure.</summary>
    private static Task ForEachIdAsync(
        IReadOnlyList<string> ids,
        int maxParallel,
        Dictionary<string, Exception> failures,
        Func<string, CancellationToken, ValueTask> step,
        CancellationToken cancellationToken
    ) =>
        Parallel.ForEachAsync(
            ids,
            new ParallelOptions { MaxDegreeOfParallelism = maxParallel, CancellationToken = cancellationToken },
            async (id, ct) =>
            {
                try
                {
                    await step(id, ct).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    lock (failures)
                    {
                        failures[id] = exception;
                    }
                }
            }
        );

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
