using LazyMigrate.Backfill;

namespace LazyMigrate.Internal;

/// <summary>
/// The backfill of one migration (<see cref="IBackfillRunner{TOld, TNew}"/>): the lease, then batch after batch of
/// scan, migrate, quarantine and checkpoint, in that order, so that the cursor never passes an entity the new store
/// or the quarantine does not hold.
/// </summary>
/// <remarks>
/// A batch migrates through the read path's <see cref="EntityMigrator{TOld, TNew}"/> (trigger
/// <see cref="MigrationTrigger.Backfill"/>): under the entities' locks it reads the old store again, so a write made
/// through the old API after the scan is never overwritten by the scanned value, and it records the events of exactly
/// the ids it inserted, with the insert where the store allows.
/// </remarks>
internal sealed class BackfillRunner<TOld, TNew>(
    MigrationContext<TOld, TNew> context,
    EntityMigrator<TOld, TNew> migrator,
    IOldStore<TOld> oldStore,
    IBackfillCheckpointStore checkpoints,
    BackfillOptions options,
    BackfillPacer pacer
) : IBackfillRunner<TOld, TNew>, IBackfillLoop
    where TOld : class
    where TNew : class
{
    private readonly string _owner = options.InstanceId ?? BackfillOwner.Create();
    private readonly BackfillLease _lease = new(context.Name, checkpoints, options, context.TimeProvider);

    public string MigrationName => context.Name;

    public bool IsPaused => pacer.IsPaused;

    public void Pause() => pacer.Pause();

    public void Resume() => pacer.Resume();

    public ValueTask<BackfillCheckpoint?> GetCheckpointAsync(CancellationToken cancellationToken = default) =>
        checkpoints.LoadAsync(context.Name, cancellationToken);

    public async ValueTask<BackfillSummary> RunAsync(
        IProgress<BackfillProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        long started = context.TimeProvider.GetTimestamp();
        var run = new BackfillRun(started);
        while (true)
        {
            BackfillCheckpoint? checkpoint = await _lease
                .AcquireAsync(_owner, context.Logger, cancellationToken)
                .ConfigureAwait(false);
            if (checkpoint is { IsComplete: true })
            {
                await _lease.ReleaseAsync(_owner).ConfigureAwait(false);
                return Summary(run, checkpoint);
            }

            try
            {
                checkpoint = await RunLeasedAsync(checkpoint, run, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await _lease.ReleaseAsync(_owner).ConfigureAwait(false);
            }

            if (checkpoint is not null)
            {
                Log.BackfillCompleted(context.Logger, context.Name, run.Counts.Migrated, checkpoint.Counts.Migrated);
                return Summary(run, checkpoint);
            }

            // Another instance took the lease over (this one stalled past it): wait for it, or take it back.
            Log.BackfillLeaseLost(context.Logger, context.Name, _owner);
        }
    }

    /// <summary>Runs batches while this instance holds the lease.</summary>
    /// <returns>The last checkpoint once the scan is complete; <see langword="null"/> if the lease was lost.</returns>
    private async ValueTask<BackfillCheckpoint?> RunLeasedAsync(
        BackfillCheckpoint? checkpoint,
        BackfillRun run,
        IProgress<BackfillProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        BackfillCounts earlier = checkpoint?.Counts ?? default;
        // The count only informs the progress: without an observer it would cost a scan of the old table for nothing.
        long? remaining = progress is null
            ? null
            : await CountRemainingAsync(checkpoint?.Cursor, cancellationToken).ConfigureAwait(false);
        Log.BackfillStarted(context.Logger, context.Name, checkpoint?.Cursor is not null, _owner);
        var state = new LeasedRun(checkpoint, earlier, remaining, new BatchSizer(options));
        var scanner = new BatchScanner<TOld>(oldStore, checkpoint?.Cursor);
        await using var scan = scanner.ConfigureAwait(false);
        Task<ScannedBatch<TOld>> next = scanner.ReadAsync(state.Sizer.Next, cancellationToken).AsTask();
        var inFlight = new Queue<BatchInFlight>(options.MaxBatchesInFlight);
        try
        {
            while (true)
            {
                ScannedBatch<TOld> batch = await next.ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    // A stop keeps what is done: the batches in flight are checkpointed as they commit.
                    while (inFlight.Count > 0)
                    {
                        if (!await CheckpointAsync(inFlight.Dequeue(), state, run, progress).ConfigureAwait(false))
                        {
                            break;
                        }
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                }

                await pacer.WaitAsync(batch.Scanned, state.LastDuration, cancellationToken).ConfigureAwait(false);
                if (!await _lease.RenewIfDueAsync(_owner, state.Checkpoint, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                // The next batch is read while this one migrates, and up to MaxBatchesInFlight migrate side by side:
                // the old store's scan, the mapper and the new store's inserts overlap. The cursor passes a batch
                // only once it and every batch before it have committed.
                next = batch.End
                    ? Task.FromResult(batch)
                    : scanner.ReadAsync(state.Sizer.Next, cancellationToken).AsTask();
                long started = context.TimeProvider.GetTimestamp();
                inFlight.Enqueue(new BatchInFlight(batch, MigrateAsync(batch, cancellationToken).AsTask(), started));
                while (inFlight.Count >= options.MaxBatchesInFlight || (batch.End && inFlight.Count > 0))
                {
                    BatchInFlight done = inFlight.Dequeue();
                    if (!await CheckpointAsync(done, state, run, progress).ConfigureAwait(false))
                    {
                        return null;
                    }

                    if (done.Batch.End)
                    {
                        return state.Checkpoint;
                    }
                }
            }
        }
        finally
        {
            // The scan's enumerator is disposed after its last read has ended, and no batch is left running; their
            // failures are not this run's to report once it fails or stops (reading them marks them observed).
            foreach (BatchInFlight left in inFlight)
            {
                await Task.WhenAny(left.Counts).ConfigureAwait(false);
                _ = left.Counts.Exception;
            }

            await Task.WhenAny(next).ConfigureAwait(false);
            _ = next.Exception;
        }
    }

    /// <summary>
    /// Saves the checkpoint of a batch once it has committed, never before: a checkpoint saved first would skip the
    /// batch if this process died in between (sidekiq #6405). The first batch saves one too.
    /// </summary>
    /// <returns><see langword="false"/> when another instance holds the lease: nothing was saved.</returns>
    private async ValueTask<bool> CheckpointAsync(
        BatchInFlight done,
        LeasedRun state,
        BackfillRun run,
        IProgress<BackfillProgress>? progress
    )
    {
        BackfillCounts counts = await done.Counts.ConfigureAwait(false);
        BackfillCounts leased = state.Leased + counts;
        var saved = new BackfillCheckpoint
        {
            Migration = context.Name,
            Cursor = done.Batch.LastId ?? state.Checkpoint?.Cursor,
            Counts = state.Earlier + leased,
            IsComplete = done.Batch.End,
            UpdatedAt = context.TimeProvider.GetUtcNow(),
        };

        // The save is not cancelled with the run: a batch that committed keeps its checkpoint.
        if (!await _lease.SaveAsync(saved, _owner, CancellationToken.None).ConfigureAwait(false))
        {
            return false;
        }

        state.Checkpoint = saved;
        state.Leased = leased;
        state.LastDuration = context.TimeProvider.GetElapsedTime(done.Started);
        if (!done.Batch.End)
        {
            state.Sizer.Record(done.Batch.Scanned, state.LastDuration);
        }

        run.Add(counts);
        context.Metrics.BackfillBatch(context.Name, counts, state.LastDuration);
        progress?.Report(
            new BackfillProgress
            {
                Migration = context.Name,
                Counts = leased,
                Earlier = state.Earlier,
                Remaining = state.Remaining,
                Elapsed = context.TimeProvider.GetElapsedTime(run.Started),
                BatchSize = done.Batch.Scanned,
            }
        );
        return true;
    }

    /// <summary>Migrates a batch and quarantines what cannot be mapped, before its checkpoint is saved.</summary>
    private async ValueTask<BackfillCounts> MigrateAsync(ScannedBatch<TOld> batch, CancellationToken cancellationToken)
    {
        var counts = new BackfillCounts { Scanned = batch.Scanned };
        var quarantined = new List<QuarantinedEntity>();
        if (batch.Corrupt is { } corrupt)
        {
            quarantined.Add(Quarantined(corrupt.EntityId, corrupt));
        }

        if (batch.Entities.Count > 0)
        {
            counts = context.Options.ForwardSync
                ? await MigrateLockedAsync(batch, counts, quarantined, cancellationToken).ConfigureAwait(false)
                : await MigrateScannedAsync(batch, counts, quarantined, cancellationToken).ConfigureAwait(false);
        }

        if (quarantined.Count > 0)
        {
            await checkpoints.QuarantineAsync(context.Name, quarantined, cancellationToken).ConfigureAwait(false);
            foreach (QuarantinedEntity entity in quarantined)
            {
                Log.BackfillQuarantined(context.Logger, context.Name, entity.EntityId, entity.Error);
            }
        }

        return counts with
        {
            Quarantined = quarantined.Count,
        };
    }

    /// <summary>
    /// Without forward sync the scanned values are migrated as they are, by insert-if-absent alone: nothing writes
    /// the old store's later changes into the new one, so a value read a moment ago is as good as one read under the
    /// lock (see <see cref="EntityMigrator{TOld, TNew}.MigrateScannedAsync"/>).
    /// </summary>
    private async ValueTask<BackfillCounts> MigrateScannedAsync(
        ScannedBatch<TOld> batch,
        BackfillCounts counts,
        List<QuarantinedEntity> quarantined,
        CancellationToken cancellationToken
    )
    {
        IReadOnlyList<KeyValuePair<string, TOld>> entities = batch.Entities;
        ScannedMigration migration;
        while (true)
        {
            try
            {
                migration = await migrator
                    .MigrateScannedAsync(entities, MigrationTrigger.Backfill, cancellationToken)
                    .ConfigureAwait(false);
                break;
            }
            catch (UnstorableEntityException unstorable) when (entities.Any(e => e.Key == unstorable.EntityId))
            {
                // The batch's insert failed whole, for one entity: it is quarantined, the rest migrate without it.
                quarantined.Add(Quarantined(unstorable.EntityId, unstorable));
                entities = [.. entities.Where(e => e.Key != unstorable.EntityId)];
            }
        }

        foreach (var (id, failure) in migration.Failures)
        {
            quarantined.Add(Quarantined(id, failure));
        }

        return counts with
        {
            Migrated = migration.Inserted.Count,
            AlreadyPresent = migration.Mapped - migration.Inserted.Count,
        };
    }

    /// <summary>
    /// With forward sync, a write through the old API after the scan must not be overwritten by the scanned value:
    /// the batch migrates as a read would, under its locks, reading the old store again.
    /// </summary>
    private async ValueTask<BackfillCounts> MigrateLockedAsync(
        ScannedBatch<TOld> batch,
        BackfillCounts counts,
        List<QuarantinedEntity> quarantined,
        CancellationToken cancellationToken
    )
    {
        var ids = new List<string>(batch.Entities.Count);
        foreach (var (id, _) in batch.Entities)
        {
            ids.Add(id);
        }

        while (true)
        {
            IReadOnlyDictionary<string, MigrationResult<TNew>> results = await migrator
                .MigrateManyAsync(ids, MigrationTrigger.Backfill, cancellationToken)
                .ConfigureAwait(false);
            if (HeldBackBy(ids, results) is not { } unstorable)
            {
                return Count(ids, results, counts, quarantined);
            }

            // The batch's insert failed whole, for one entity: it is quarantined, the rest migrate again without it.
            quarantined.Add(Quarantined(unstorable.EntityId, unstorable));
            ids.Remove(unstorable.EntityId);
        }
    }

    /// <summary>
    /// The entity a store could not hold when the batch's insert failed whole for it, the other ids failing with its
    /// error; <see langword="null"/> if no id of the batch failed so.
    /// </summary>
    private static UnstorableEntityException? HeldBackBy(
        List<string> ids,
        IReadOnlyDictionary<string, MigrationResult<TNew>> results
    )
    {
        foreach (string id in ids)
        {
            if (
                results[id].Failure is UnstorableEntityException unstorable
                && unstorable.EntityId != id
                && ids.Contains(unstorable.EntityId)
            )
            {
                return unstorable;
            }
        }

        return null;
    }

    /// <summary>
    /// Counts each id's outcome. A failure of the mapper, of the id's own record or of a store that cannot hold its
    /// mapped value quarantines the id; any other failure (a lock timeout, a store down past its retries) fails the
    /// batch, which runs again from the checkpoint.
    /// </summary>
    private BackfillCounts Count(
        List<string> ids,
        IReadOnlyDictionary<string, MigrationResult<TNew>> results,
        BackfillCounts counts,
        List<QuarantinedEntity> quarantined
    )
    {
        long migrated = 0,
            present = 0,
            vanished = 0;
        foreach (string id in ids)
        {
            MigrationResult<TNew> result = results[id];
            if (result.Failure is { } failure)
            {
                if (!IsEntityFailure(id, failure))
                {
                    result.ThrowIfFailed();
                }

                quarantined.Add(Quarantined(id, failure));
                continue;
            }

            switch (result.Outcome)
            {
                case MigrationOutcome.Migrated:
                    migrated++;
                    break;
                case MigrationOutcome.Absent:
                    vanished++;
                    break;
                default:
                    present++;
                    break;
            }
        }

        return counts with
        {
            Migrated = migrated,
            AlreadyPresent = present,
            Vanished = vanished,
        };
    }

    public async ValueTask<BackfillDryRunReport> DryRunAsync(
        IProgress<BackfillProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        long started = context.TimeProvider.GetTimestamp();
        // As for a run, the count only informs the progress, and a count that fails leaves it without a total.
        long? remaining = progress is null
            ? null
            : await CountRemainingAsync(null, cancellationToken).ConfigureAwait(false);
        var failures = new List<QuarantinedEntity>();
        BackfillCounts counts = default;
        long failed = 0;
        var scanner = new BatchScanner<TOld>(oldStore, null);
        await using var scan = scanner.ConfigureAwait(false);
        while (true)
        {
            await pacer.WaitAsync(options.InitialBatchSize, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            ScannedBatch<TOld> batch = await scanner
                .ReadAsync(options.InitialBatchSize, cancellationToken)
                .ConfigureAwait(false);
            foreach (var (id, value) in batch.Entities)
            {
                try
                {
                    _ = Mapping.Run(context.Name, id, "mapper", context.Mapper.Map, value);
                }
                catch (MigrationMappingException exception)
                {
                    failed++;
                    Keep(failures, Quarantined(id, exception));
                }
            }

            if (batch.Corrupt is { } corrupt)
            {
                failed++;
                Keep(failures, Quarantined(corrupt.EntityId, corrupt));
            }

            counts += new BackfillCounts { Scanned = batch.Scanned };
            progress?.Report(
                new BackfillProgress
                {
                    Migration = context.Name,
                    Counts = counts with { Quarantined = failed },
                    Remaining = remaining,
                    Elapsed = context.TimeProvider.GetElapsedTime(started),
                    BatchSize = batch.Scanned,
                }
            );
            if (batch.End)
            {
                break;
            }
        }

        var report = new BackfillDryRunReport
        {
            Migration = context.Name,
            Scanned = counts.Scanned,
            Mapped = counts.Scanned - failed,
            Failed = failed,
            Failures = failures,
            Elapsed = context.TimeProvider.GetElapsedTime(started),
        };
        Log.BackfillDryRunCompleted(context.Logger, context.Name, report.Scanned, report.Failed);
        return report;
    }

    public ValueTask<IReadOnlyList<QuarantinedEntity>> GetQuarantinedAsync(
        string? afterId = null,
        int limit = 100,
        CancellationToken cancellationToken = default
    ) => checkpoints.GetQuarantinedAsync(context.Name, afterId, limit, cancellationToken);

    public async ValueTask<QuarantineRetrySummary> RetryQuarantinedAsync(
        IReadOnlyCollection<string>? entityIds = null,
        CancellationToken cancellationToken = default
    )
    {
        IReadOnlyList<QuarantinedEntity> quarantined = await ListAsync(entityIds, cancellationToken)
            .ConfigureAwait(false);
        int migrated = 0,
            cleared = 0;
        var failedAgain = new List<QuarantinedEntity>();
        var leaving = new List<string>();

        // One id at a time: a corrupt record fails the old store's read of its whole batch, and a quarantine is short.
        foreach (QuarantinedEntity entity in quarantined)
        {
            MigrationResult<TNew> result = await migrator
                .MigrateAsync(entity.EntityId, MigrationTrigger.Backfill, cancellationToken)
                .ConfigureAwait(false);
            if (result.Failure is { } failure)
            {
                if (!IsEntityFailure(entity.EntityId, failure))
                {
                    result.ThrowIfFailed();
                }

                failedAgain.Add(Quarantined(entity.EntityId, failure));
                continue;
            }

            leaving.Add(entity.EntityId);
            if (result.Outcome == MigrationOutcome.Migrated)
            {
                migrated++;
            }
            else
            {
                cleared++;
            }
        }

        await checkpoints.ClearQuarantinedAsync(context.Name, leaving, cancellationToken).ConfigureAwait(false);
        await checkpoints.QuarantineAsync(context.Name, failedAgain, cancellationToken).ConfigureAwait(false);
        var summary = new QuarantineRetrySummary(quarantined.Count, migrated, cleared, failedAgain.Count);
        Log.BackfillQuarantineRetried(context.Logger, context.Name, summary.Retried, summary.StillQuarantined);
        return summary;
    }

    Task IBackfillLoop.RunAsync(CancellationToken stoppingToken) =>
        new BackfillLoop(
            context.Name,
            ct => RunAsync(null, ct),
            options,
            context.TimeProvider,
            context.Logger
        ).RunAsync(stoppingToken);

    private async ValueTask<IReadOnlyList<QuarantinedEntity>> ListAsync(
        IReadOnlyCollection<string>? entityIds,
        CancellationToken cancellationToken
    )
    {
        var all = new List<QuarantinedEntity>();
        string? after = null;
        while (true)
        {
            IReadOnlyList<QuarantinedEntity> page = await checkpoints
                .GetQuarantinedAsync(context.Name, after, options.MaxBatchSize, cancellationToken)
                .ConfigureAwait(false);
            foreach (QuarantinedEntity entity in page)
            {
                if (entityIds is null || entityIds.Contains(entity.EntityId))
                {
                    all.Add(entity);
                }
            }

            if (page.Count < options.MaxBatchSize)
            {
                return all;
            }

            after = page[^1].EntityId;
        }
    }

    /// <summary>
    /// The entities after the cursor, for the progress's total and time left, if the old store counts them. The count
    /// only informs: a store that fails it (a statement timeout on a huge table) leaves the total unknown, never the
    /// backfill unstarted.
    /// </summary>
    private async ValueTask<long?> CountRemainingAsync(string? cursor, CancellationToken cancellationToken)
    {
        if (oldStore is not IOldStoreCounter<TOld> counter)
        {
            return null;
        }

        try
        {
            return await counter.CountAfterAsync(cursor, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.BackfillCountFailed(context.Logger, context.Name, exception);
            return null;
        }
    }

    /// <summary>
    /// Whether a failure is the entity's own (its mapping, its record, or a mapped value no store can hold), which
    /// quarantines it.
    /// </summary>
    private static bool IsEntityFailure(string id, LazyMigrationException failure) =>
        failure is MigrationMappingException
        || (failure is CorruptEntityException or UnstorableEntityException && failure.EntityId == id);

    private QuarantinedEntity Quarantined(string id, Exception failure) =>
        new(id, $"{failure.GetType().Name}: {failure.Message}", context.TimeProvider.GetUtcNow(), 1);

    private void Keep(List<QuarantinedEntity> failures, QuarantinedEntity failure)
    {
        if (failures.Count < options.DryRunFailuresKept)
        {
            failures.Add(failure);
        }
    }

    private BackfillSummary Summary(BackfillRun run, BackfillCheckpoint checkpoint) =>
        new()
        {
            Migration = context.Name,
            Counts = run.Counts,
            Total = checkpoint.Counts,
            IsComplete = checkpoint.IsComplete,
            Batches = run.Batches,
            Elapsed = context.TimeProvider.GetElapsedTime(run.Started),
        };

    /// <summary>A batch migrating, and when it started.</summary>
    private sealed record BatchInFlight(ScannedBatch<TOld> Batch, Task<BackfillCounts> Counts, long Started);

    /// <summary>Where one lease's run stands: its last checkpoint, its counts and its batch size.</summary>
    private sealed class LeasedRun(
        BackfillCheckpoint? checkpoint,
        BackfillCounts earlier,
        long? remaining,
        BatchSizer sizer
    )
    {
        public BackfillCheckpoint? Checkpoint { get; set; } = checkpoint;

        public BackfillCounts Earlier { get; } = earlier;

        public BackfillCounts Leased { get; set; }

        public long? Remaining { get; } = remaining;

        public BatchSizer Sizer { get; } = sizer;

        public TimeSpan LastDuration { get; set; }
    }

    /// <summary>What one <see cref="RunAsync"/> call did, over every lease it held.</summary>
    private sealed class BackfillRun(long started)
    {
        public long Started { get; } = started;

        public BackfillCounts Counts { get; private set; }

        public int Batches { get; private set; }

        public void Add(BackfillCounts counts)
        {
            Counts += counts;
            Batches++;
        }
    }
}
