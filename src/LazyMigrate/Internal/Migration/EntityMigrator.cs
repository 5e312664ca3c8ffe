using System.Diagnostics;
using LazyMigrate.Outbox;

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

    /// <summary>
    /// Migrates entities a scan has just read, by insert-if-absent alone: no lock, no re-check, no second read of the
    /// old store. Right only where nothing but LazyMigrate writes the new store from the old one after a migration
    /// (no forward sync): then a value read a moment before the insert is as good as one read under the lock, and
    /// insert-if-absent keeps a save, a delete or another migration that got there first.
    /// </summary>
    /// <returns>The ids inserted and the ids the mapper failed on; the others were in the new store already.</returns>
    public async Task<ScannedMigration> MigrateScannedAsync(
        IReadOnlyList<KeyValuePair<string, TOld>> scanned,
        MigrationTrigger trigger,
        CancellationToken cancellationToken
    )
    {
        long started = context.TimeProvider.GetTimestamp();
        var oldValues = new Dictionary<string, TOld>(scanned.Count, StringComparer.Ordinal);
        var ids = new List<string>(scanned.Count);
        foreach (var (id, value) in scanned)
        {
            oldValues[id] = value;
            ids.Add(id);
        }

        var results = new Dictionary<string, MigrationResult<TNew>>(StringComparer.Ordinal);
        List<KeyValuePair<string, TNew>> mapped = MapAll(ids, oldValues, results);
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyCollection<string> inserted =
            mapped.Count == 0
                ? []
                : await InsertAndRecordEventsAsync(
                        ProviderLockLease<TOld, TNew>.None(context),
                        mapped,
                        oldValues,
                        trigger
                    )
                    .ConfigureAwait(false);
        if (inserted.Count > 0 && context.Outbox.HasHandlers)
        {
            context.Outbox.Wake();
        }

        TimeSpan elapsed = context.TimeProvider.GetElapsedTime(started);
        foreach (string id in inserted)
        {
            Log.EntityMigrated(context.Logger, context.Name, id, trigger);
            context.Metrics.Migration(context.Name, trigger, "migrated", elapsed);
        }

        for (int i = inserted.Count; i < mapped.Count; i++)
        {
            context.Metrics.Migration(context.Name, trigger, "already_migrated", elapsed);
        }

        var failures = new Dictionary<string, LazyMigrationException>(results.Count, StringComparer.Ordinal);
        foreach (var (id, result) in results)
        {
            if (result.Failure is { } failure)
            {
                failures[id] = failure;
                context.Metrics.Failure(context.Name, FailureKinds.Of(failure));
                context.Metrics.Migration(context.Name, trigger, "failed", elapsed);
            }
        }

        return new ScannedMigration(inserted, mapped.Count, failures);
    }

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
            var winners = new List<string>();
            MigrationLease<TOld, TNew> lease = await MigrationLease<TOld, TNew>
                .AcquireAsync(context, ids, forMigration: true, cancellationToken)
                .ConfigureAwait(false);
            await using (lease.ConfigureAwait(false))
            {
                await MigrateLockedAsync(ids, trigger, lease, results, winners, cancellationToken)
                    .ConfigureAwait(false);
            }

            // The events were recorded with the inserts; the dispatcher delivers them, never on the reader's path.
            foreach (string winner in winners)
            {
                Log.EntityMigrated(context.Logger, context.Name, winner, trigger);
            }

            if (winners.Count > 0 && context.Outbox.HasHandlers)
            {
                context.Outbox.Wake();
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
        MigrationTrigger trigger,
        MigrationLease<TOld, TNew> lease,
        Dictionary<string, MigrationResult<TNew>> results,
        List<string> winners,
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
        IReadOnlyCollection<string> inserted = await InsertAndRecordEventsAsync(lease, mapped, oldValues, trigger)
            .ConfigureAwait(false);

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
                winners.Add(id);
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
    /// Inserts the mapped entities and, when the migration has handlers, records the event of each inserted id: with
    /// the insert where the new store records intents with its changes; else right after it, for the ids it inserted
    /// (an event recorded before the insert could be delivered for an insert that then lost, so a store without
    /// transactions loses an event only if the process dies between its insert and that record).
    /// </summary>
    private async ValueTask<IReadOnlyCollection<string>> InsertAndRecordEventsAsync(
        MigrationLease<TOld, TNew> lease,
        List<KeyValuePair<string, TNew>> mapped,
        IReadOnlyDictionary<string, TOld> oldValues,
        MigrationTrigger trigger
    )
    {
        if (!context.Outbox.HasHandlers)
        {
            return await lease.InsertManyIfAbsentAsync(mapped, null).ConfigureAwait(false);
        }

        DateTimeOffset now = context.TimeProvider.GetUtcNow();
        Dictionary<string, OutboxIntent> intents = EventIntents(mapped, oldValues, trigger, now);
        if (context.Stores.RecordsWithChanges)
        {
            return await lease.InsertManyIfAbsentAsync(mapped, intents).ConfigureAwait(false);
        }

        IReadOnlyCollection<string> inserted = await lease.InsertManyIfAbsentAsync(mapped, null).ConfigureAwait(false);
        foreach (string id in inserted)
        {
            await context.Stores.RecordAsync(intents[id], CancellationToken.None).ConfigureAwait(false);
        }

        return inserted;
    }

    private Dictionary<string, OutboxIntent> EventIntents(
        List<KeyValuePair<string, TNew>> mapped,
        IReadOnlyDictionary<string, TOld> oldValues,
        MigrationTrigger trigger,
        DateTimeOffset now
    )
    {
        var intents = new Dictionary<string, OutboxIntent>(mapped.Count, StringComparer.Ordinal);
        foreach (var (id, newValue) in mapped)
        {
            var payload = new EventPayload<TOld, TNew>
            {
                Old = oldValues[id],
                New = newValue,
                Trigger = trigger,
                MigratedAt = now,
            };
            intents[id] = new OutboxIntent(
                context.Name,
                OutboxItemKind.EntityMigrated,
                id,
                payload.ToJson(context.Outbox.SerializerOptions),
                now
            );
        }

        return intents;
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
}
