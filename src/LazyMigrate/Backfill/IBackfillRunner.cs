namespace LazyMigrate.Backfill;

/// <summary>
/// Moves every entity of the old store that nothing has migrated yet: the backfill of one migration. It scans the old
/// store in id order from its checkpoint, migrates batch after batch by insert-if-absent (never over a newer write or
/// a tombstone, recording <see cref="EntityMigrated{TOld, TNew}"/> for exactly the ids it inserted) and saves the
/// checkpoint after each committed batch. Resolve it like the repository: unkeyed for the pair's one migration, keyed
/// by the migration name otherwise; <c>AddLazyMigrationBackfill</c> runs it as a hosted service.
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
/// <remarks>
/// Instances share one backfill through the checkpoint store's lease: one instance at a time advances the cursor, and
/// another takes over from the last checkpoint when the holder stops renewing it. A run stopped or killed at any point
/// resumes from its checkpoint; no entity is skipped and none migrated twice.
/// </remarks>
public interface IBackfillRunner<TOld, TNew>
    where TOld : class
    where TNew : class
{
    /// <summary>Gets the migration name.</summary>
    string MigrationName { get; }

    /// <summary>Gets whether <see cref="Pause"/> holds the backfill.</summary>
    bool IsPaused { get; }

    /// <summary>
    /// Runs the backfill from its checkpoint to the end of the old store, or until cancelled. While another instance
    /// holds the lease, waits for it to finish or to stop renewing it.
    /// </summary>
    /// <param name="progress">Told after each batch, if given.</param>
    /// <param name="cancellationToken">Stops the run; the checkpoint keeps every committed batch.</param>
    /// <returns>What this call moved, and whether the backfill is complete.</returns>
    /// <exception cref="LazyMigrationException">A store failed past its retries; the checkpoint keeps the last
    /// committed batch.</exception>
    ValueTask<BackfillSummary> RunAsync(
        IProgress<BackfillProgress>? progress = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Maps every entity of the old store and writes nothing anywhere: no insert, no event, no checkpoint, no
    /// quarantine. Proves a mapper against real data before a single entity moves.
    /// </summary>
    /// <param name="progress">Told after each batch, if given.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The counts, the throughput and the failures.</returns>
    ValueTask<BackfillDryRunReport> DryRunAsync(
        IProgress<BackfillProgress>? progress = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Holds the backfill after the batch in flight, on this instance, until <see cref="Resume"/>.</summary>
    void Pause();

    /// <summary>Lets a paused backfill go on.</summary>
    void Resume();

    /// <summary>Reads the backfill's checkpoint.</summary>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The checkpoint, or <see langword="null"/> before the first batch.</returns>
    ValueTask<BackfillCheckpoint?> GetCheckpointAsync(CancellationToken cancellationToken = default);

    /// <summary>Lists quarantined entities in id order.</summary>
    /// <param name="afterId">The last id already listed, or <see langword="null"/> to start at the beginning.</param>
    /// <param name="limit">The most entities to list.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The quarantined entities, with their errors.</returns>
    ValueTask<IReadOnlyList<QuarantinedEntity>> GetQuarantinedAsync(
        string? afterId = null,
        int limit = 100,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Migrates quarantined entities again, after a fix of the mapper or of the data: all of them, or some. An entity
    /// that migrates (or that the new store holds, or the old store no longer does) leaves the quarantine; one that
    /// fails again stays, with its new error.
    /// </summary>
    /// <param name="entityIds">The entities, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>What the retry did.</returns>
    ValueTask<QuarantineRetrySummary> RetryQuarantinedAsync(
        IReadOnlyCollection<string>? entityIds = null,
        CancellationToken cancellationToken = default
    );
}
