namespace LazyMigrate.Internal;

/// <summary>
/// How a dispatcher applies a batch of ids under their locks, in either direction: the ids locked together (one round
/// trip with a store-held lock), each on its own if that times out, so that one busy entity does not hold back the
/// others; then a step per id, a few at a time.
/// </summary>
internal static class LockedApply
{
    /// <summary>Runs <paramref name="applyLocked"/> over the ids together, else over each id alone.</summary>
    public static async Task<ApplyResult> RunAsync(
        IReadOnlyList<string> ids,
        Func<IReadOnlyList<string>, ApplyResult, CancellationToken, Task> applyLocked,
        CancellationToken cancellationToken
    )
    {
        var result = new ApplyResult();
        try
        {
            await applyLocked(ids, result, cancellationToken).ConfigureAwait(false);
        }
        catch (MigrationLockTimeoutException) when (ids.Count > 1)
        {
            foreach (string id in ids)
            {
                try
                {
                    await applyLocked([id], result, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    result.Fail(id, exception);
                }
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            result.FailAll(ids, exception);
        }

        return result;
    }

    /// <summary>
    /// Runs a step for each id, a few at a time; a step that throws records the id's failure, except an old store's
    /// refusal of a write-back that a later old-API write supersedes, which completes the id as skipped.
    /// </summary>
    public static Task ForEachIdAsync(
        IReadOnlyList<string> ids,
        int maxParallel,
        ApplyResult result,
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
                catch (WriteBackSupersededException refused) when (refused.IsOf(id))
                {
                    result.Skip(id, SkipReasons.Superseded);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    result.Fail(id, exception);
                }
            }
        );

    /// <summary>
    /// What the new store holds for the locked ids: a store-held lock read them under the lock already; otherwise they
    /// are read now, under it (a provider's lease, or none without UseLock, knows nothing of the new store's state).
    /// </summary>
    public static async ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> CurrentAsync<TOld, TNew>(
        MigrationContext<TOld, TNew> context,
        MigrationLease<TOld, TNew> lease,
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken
    )
        where TOld : class
        where TNew : class =>
        lease is NewStoreLockLease<TOld, TNew> { KnownState: { } read }
            ? read
            : await context.Stores.FindManyNewAsync(ids, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Writes the items in one batch call; if it fails, whether it threw at once (an id the store refuses before any
    /// round trip) or later, writes each alone, a few at a time, so that the one the store refuses fails alone.
    /// </summary>
    public static async Task WriteBatchOrEachAsync<TOld, TNew, TItem>(
        MigrationContext<TOld, TNew> context,
        (string Store, string Operation) what,
        IReadOnlyList<TItem> items,
        Func<TItem, string> idOf,
        Func<ValueTask<bool>> writeBatch,
        Func<TItem, CancellationToken, ValueTask<bool>> writeOne,
        int maxParallel,
        ApplyResult result,
        CancellationToken cancellationToken
    )
        where TOld : class
        where TNew : class
    {
        if (items.Count == 0)
        {
            return;
        }

        try
        {
            if (await writeBatch().ConfigureAwait(false))
            {
                return;
            }
        }
        catch (WriteBackSupersededException)
        {
            // Not a failure: the old store wrote none of the batch, and each write alone leaves out the refused ones.
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.WriteBackBatchFailed(
                context.Logger,
                context.Name,
                what.Store,
                what.Operation,
                items.Count,
                idOf(items[0]),
                exception
            );
        }

        var byId = items.ToDictionary(idOf, StringComparer.Ordinal);
        await ForEachIdAsync(
                [.. byId.Keys],
                maxParallel,
                result,
                async (id, ct) => await writeOne(byId[id], ct).ConfigureAwait(false),
                cancellationToken
            )
            .ConfigureAwait(false);
    }
}
