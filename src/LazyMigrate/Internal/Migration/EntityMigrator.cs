using System.Diagnostics;

namespace LazyMigrate.Internal;

/// <summary>
/// Moves entities from the old store to the new one, the read path of docs/design.md: single-flight in the process,
/// the lock, a re-check of the new store, the old store, the mapper, insert-if-absent, a re-read when the insert
/// lost, and the event raised by the winner only. One id is a batch of one, so both take the same path.
/// </summary>
/// <remarks>
/// Every id gets its own result: a failure (a mapper that throws, a lock timeout, a failed store call) is the result
/// of the ids it concerns, never of ids the batch settled before it or without it.
/// </remarks>
internal sealed class EntityMigrator<TOld, TNew>(MigrationContext<TOld, TNew> context)
    where TOld : class
    where TNew : class
{
    private readonly SingleFlight<MigrationResult<TNew>> _flights = new(context.Name, static r => r.Failure);

    public async Task<MigrationResult<TNew>> MigrateAsync(
        string id,
        MigrationTrigger trigger,
        CancellationToken cancellationToken
    )
    {
        IReadOnlyDictionary<string, MigrationResult<TNew>> results = await MigrateManyAsync(
                [id],
                trigger,
                cancellationToken
            )
            .ConfigureAwait(false);
        return results[id];
    }

    /// <summary>Migrates distinct ids; the result of each id may be a failure of that id alone.</summary>
    public Task<IReadOnlyDictionary<string, MigrationResult<TNew>>> MigrateManyAsync(
        IReadOnlyList<string> ids,
        MigrationTrigger trigger,
        CancellationToken cancellationToken
    ) =>
        _flights.RunAsync(
            ids,
            (Migrator: this, Trigger: trigger),
            static (s, batch, trace, ct) => s.Migrator.MigrateBatchAsync(batch, s.Trigger, trace, ct),
            cancellationToken
        );

    private async Task<IReadOnlyDictionary<string, MigrationResult<TNew>>> MigrateBatchAsync(
        IReadOnlyList<string> ids,
        MigrationTrigger trigger,
        FlightTrace trace,
        CancellationToken cancellationToken
    )
    {
        // A child of the caller's activity, and the current activity of the work: the stores' spans nest beneath it.
        using Activity? activity = trace.StartMigrate(context.Name, ids);
        long started = context.TimeProvider.GetTimestamp();
        var results = new Dictionary<string, MigrationResult<TNew>>(ids.Count, StringComparer.Ordinal);
        try
        {
            var winners = new List<Winner>();
            MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
                .AcquireAsync(context, ids, forMigration: true, cancellationToken)
                .ConfigureAwait(false);
            await using (lease.ConfigureAwait(false))
            {
                await MigrateLockedAsync(ids, lease, results, winners, cancellationToken).ConfigureAwait(false);
            }

            // Raised once the locks are free, so that a handler may write the very entity it is told about.
            foreach (Winner winner in winners)
            {
                await context
                    .Events.PublishAsync(winner.Id, winner.OldValue, winner.NewValue, trigger, CancellationToken.None)
                    .ConfigureAwait(false);
            }
        }
        catch (LazyMigrationException exception)
        {
            // The batch failed as a whole (the lock, a store call): the ids it had not settled fail with that error,
            // the ones it had (found by the re-read under the lock) keep their result.
            Log.MigrationFailed(context.Logger, context.Name, Describe(ids), exception);
            foreach (string id in ids)
            {
                results.TryAdd(id, MigrationResult<TNew>.Failed(exception));
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Not a typed error: a defect, passed on to every caller as it is, and counted for every id it fails.
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            Log.MigrationFailed(context.Logger, context.Name, Describe(ids), exception);
            TimeSpan elapsed = context.TimeProvider.GetElapsedTime(started);
            for (int i = 0; i < ids.Count; i++)
            {
                context.Metrics.Failure(context.Name, FailureKinds.Of(exception));
                context.Metrics.Migration(context.Name, trigger, "failed", elapsed);
            }

            throw;
        }

        Record(results, trigger, context.TimeProvider.GetElapsedTime(started), activity);
        return results;
    }

    private async Task MigrateLockedAsync(
        IReadOnlyList<string> ids,
        MigrationLease<TOld, TNew> lease,
        Dictionary<string, MigrationResult<TNew>> results,
        List<Winner> winners,
        CancellationToken cancellationToken
    )
    {
        // Another instance may have migrated, saved or deleted these ids while we waited for a lock: unless the lease
        // already knows (see KnownState), read again.
        List<string> stillMissing = lease.KnownState is { } known
            ? KeepMissing(ids, known, results)
            : await KeepMissingAsync(ids, results, cancellationToken).ConfigureAwait(false);
        if (stillMissing.Count == 0)
        {
            return;
        }

        // A store-held lock may have read the old store along with its re-read, under the lock: then there is no old
        // read left.
        IReadOnlyDictionary<string, TOld> oldValues =
            lease.OldEntities
            ?? await context.Stores.FindManyOldAsync(stillMissing, cancellationToken).ConfigureAwait(false);
        List<KeyValuePair<string, TNew>> mapped = MapAll(stillMissing, oldValues, results);
        if (mapped.Count == 0)
        {
            return;
        }

        // The last point to give up. Past it the work runs to its end even if every caller left: an insert whose event
        // is never raised would lose that event for good.
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyCollection<string> inserted = await lease.InsertManyIfAbsentAsync(mapped).ConfigureAwait(false);

        // The store reports the distinct ids it inserted, so as many as were mapped means all of them (the common
        // case): then there is no set to build and nothing lost to read again.
        IReadOnlySet<string>? insertedIds =
            inserted.Count == mapped.Count
                ? null
                : inserted as IReadOnlySet<string> ?? new HashSet<string>(inserted, StringComparer.Ordinal);

        // The winners first: they are in the store, so their results and events stand whatever happens next.
        List<string>? lost = null;
        foreach (var (id, newValue) in mapped)
        {
            if (insertedIds is null || insertedIds.Contains(id))
            {
                results[id] = MigrationResult<TNew>.Migrated(newValue);
                winners.Add(new Winner(id, oldValues[id], newValue));
            }
            else
            {
                (lost ??= new List<string>(mapped.Count - inserted.Count)).Add(id);
            }
        }

        if (lost is not null)
        {
            await ReadLostAsync(lost, results).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A save, delete or migration got there first: the lost ids get what the store holds, never the stale mapped
    /// value. If that read fails, only the lost ids fail, whatever the failure: a defect here (a store answering
    /// null, say) must not reach the batch's outer handler, which would drop the winners' events.
    /// </summary>
    private async Task ReadLostAsync(List<string> lost, Dictionary<string, MigrationResult<TNew>> results)
    {
        try
        {
            foreach (string id in await KeepMissingAsync(lost, results, CancellationToken.None).ConfigureAwait(false))
            {
                results[id] = MigrationResult<TNew>.Absent();
            }
        }
        catch (Exception exception)
        {
            // The read runs without the caller's token, so no cancellation is the caller's: every failure is the lost
            // ids'.
            LazyMigrationException failure =
                exception as LazyMigrationException
                ?? new MigrationStoreException(
                    context.Name,
                    lost[0],
                    MigrationRole.NewStore,
                    "find_many",
                    exception,
                    lost.Count
                );
            Log.MigrationFailed(context.Logger, context.Name, Describe(lost), failure);
            foreach (string id in lost)
            {
                results[id] = MigrationResult<TNew>.Failed(failure);
            }
        }
    }

    /// <summary>Reads the new store; ids it holds (or tombstoned) get their result, the others are returned.</summary>
    private async Task<List<string>> KeepMissingAsync(
        IReadOnlyList<string> ids,
        Dictionary<string, MigrationResult<TNew>> results,
        CancellationToken cancellationToken
    ) => KeepMissing(ids, await context.Stores.FindManyNewAsync(ids, cancellationToken).ConfigureAwait(false), results);

    /// <summary>Ids the new store holds (or tombstoned) get their result; the others are returned.</summary>
    private static List<string> KeepMissing(
        IReadOnlyList<string> ids,
        IReadOnlyDictionary<string, NewStoreRead<TNew>> current,
        Dictionary<string, MigrationResult<TNew>> results
    )
    {
        var missing = new List<string>(ids.Count);
        foreach (string id in ids)
        {
            if (current.TryGetValue(id, out NewStoreRead<TNew> read) && read.State != NewStoreState.Missing)
            {
                results[id] = MigrationResult<TNew>.FromNewStore(read);
            }
            else
            {
                missing.Add(id);
            }
        }

        return missing;
    }

    private List<KeyValuePair<string, TNew>> MapAll(
        List<string> ids,
        IReadOnlyDictionary<string, TOld> oldValues,
        Dictionary<string, MigrationResult<TNew>> results
    )
    {
        var mapped = new List<KeyValuePair<string, TNew>>(ids.Count);
        foreach (string id in ids)
        {
            if (!oldValues.TryGetValue(id, out TOld? oldValue))
            {
                results[id] = MigrationResult<TNew>.Absent();
                context.NegativeCache.Remember(id);
                continue;
            }

            try
            {
                mapped.Add(new(id, Mapping.Run(context.Name, id, "mapper", context.Mapper.Map, oldValue)));
            }
            catch (MigrationMappingException exception)
            {
                // This id fails alone; the rest of the batch still migrates.
                results[id] = MigrationResult<TNew>.Failed(exception);
                Log.MigrationFailed(context.Logger, context.Name, id, exception);
            }
        }

        return mapped;
    }

    /// <summary>
    /// Counts every id's outcome; a failed id sets the span's error status with its exception's type name.
    /// </summary>
    private void Record(
        Dictionary<string, MigrationResult<TNew>> results,
        MigrationTrigger trigger,
        TimeSpan elapsed,
        Activity? activity
    )
    {
        foreach (MigrationResult<TNew> result in results.Values)
        {
            if (result.Failure is { } failure)
            {
                context.Metrics.Failure(context.Name, FailureKinds.Of(failure));
                if (activity?.Status != ActivityStatusCode.Error)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, failure.GetType().Name);
                }
            }

            context.Metrics.Migration(context.Name, trigger, result.OutcomeTag, elapsed);
        }
    }

    private static string Describe(IReadOnlyList<string> ids) =>
        ids.Count == 1 ? ids[0] : $"{ids[0]} (and {ids.Count - 1} more in its batch)";

    /// <summary>An entity this batch inserted, whose event is raised once the locks are released.</summary>
    private readonly record struct Winner(string Id, TOld OldValue, TNew NewValue);
}
